/**
 * Which lease holders are gone: those whose heartbeat has been silent long enough by the store's
 * (the database's) clock. Names say nothing: two instances sharing a host name and pid are told apart,
 * and this instance is never gone to itself.
 */
import { createMemoryStore } from '../support/fakes/memory-store';
import { beat, defaultLiveness, goneOwners, instanceId } from '../../src/retrieval/lease-owners';

describe('lease owners', () => {
  it('finds gone the holders silent for silentMs by the store clock, whatever their names, and never this instance', async () => {
    let now = new Date('2026-12-02T02:00:00.000Z');
    const store = createMemoryStore({ clock: () => now });
    // Containers of one image: one host name, pid 1 in each.
    const self = 'bot-1:1:self';
    const twin = 'bot-1:1:twin';
    const other = instanceId('bot-2', 'other');
    await beat(store, self);
    await beat(store, twin);
    now = new Date(now.getTime() + 3_000);
    await beat(store, other);
    expect(await goneOwners(store, [self, twin, other, 'never-beat'], self, 5_000)).toEqual(['never-beat']);
    now = new Date(now.getTime() + 2_000);
    expect(await goneOwners(store, [self, twin, other], self, 5_000)).toEqual([twin]);
    now = new Date(now.getTime() + 60_000);
    expect(await goneOwners(store, [self, twin, other], self, 5_000)).toEqual([twin, other]);
    expect(await goneOwners(store, [self], self, 5_000)).toEqual([]);
  });

  it('gives a silence of several beats before an instance counts as gone', () => {
    expect(defaultLiveness.silentMs).toBeGreaterThanOrEqual(4 * defaultLiveness.heartbeatMs);
  });
});
