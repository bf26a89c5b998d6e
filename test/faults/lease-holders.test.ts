/**
 * Notification leases held by other instances that share this process's host name and pid (as
 * containers of one image do: pid 1 each), with the real bot in-process on an SQLite file and an
 * injected clock. Whether a holder is gone is read from its heartbeats in the database, never from its
 * name: a silent holder's lease is released and the message sent by this instance; a holder that
 * keeps beating keeps its lease until it falls silent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import type { StorePort } from '../../src/ports/store-port';
import { fakeAlice } from '../support/fixtures';
import { london } from '../support/instants';
import { InProcessBot, StandInConnector, startedRetrieval } from './fault-support';

const nhs = '9434765919';
const ctHead = { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 };
const xrChest = { studyInstanceUid: '2.25.1', date: '2024-03-12', description: 'XR Chest', modalities: ['DX'], instanceCount: 2 };
const minute = 60_000;

/** An owner id with this host's name and this process's pid, as another container of the same image would have. */
const twin = (nonce: string): string => `${os.hostname()}:${process.pid}:${nonce}`;

describe('notification leases of instances sharing a host name and pid', () => {
  let dir: string;
  let connector: StandInConnector;
  let pacs: FakePacs;
  let bot: InProcessBot;
  let store: StorePort;
  let now: Date;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lease-holders-'));
    now = london('2026-12-02T02:00');
    connector = await StandInConnector.start();
    pacs = new FakePacs({ local: [{ identity: fakeAlice, studies: [] }], sites: { exeter: { studies: { [nhs]: [xrChest, ctHead] } } } });
    bot = await InProcessBot.start({ connector, clock: () => now, pacs, env: { DATABASE_URL: `sqlite:${path.join(dir, 'bot.sqlite')}` } });
    store = bot.app.store;
  }, 30_000);
  afterEach(async () => {
    await bot?.stop();
    await connector?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** A finished retrieval of `study` whose completion message is owed, leased to `holder` for 5 minutes. */
  async function owedAndLeasedTo(study: typeof ctHead, holder: string): Promise<void> {
    const retrieval = await startedRetrieval({ store, pacs, connector }, 'a:holders-chat', nhs, study, now);
    await store.transition(retrieval.id, ['retrieving'], 'stored', now.toISOString());
    const leased = await store.claimNotifications(holder, now.toISOString(), 5 * minute, 10, await store.clockNow());
    expect(leased.map((n) => n.leaseOwner)).toEqual([holder]);
  }

  const delivered = (description: string) =>
    connector.deliveredCompletions('a:holders-chat').filter((r) => (r.body.text ?? '').includes(description));

  /** Four poll cycles: the bot looks for silent lease holders every fourth. */
  async function pollFourTimes(): Promise<void> {
    for (let i = 0; i < 4; i += 1) await bot.app.pollOnce();
  }

  it('releases the lease of a holder that has fallen silent, although its name says this host and pid, and sends once', async () => {
    const silent = twin('silent');
    await store.heartbeat(silent, new Date(Date.parse(await store.clockNow()) - 10_000).toISOString());
    await owedAndLeasedTo(ctHead, silent);

    await pollFourTimes();
    expect(delivered('CT Head')).toHaveLength(1);
    expect(bot.events('leases-released')).toEqual([expect.objectContaining({ released: 1, reason: 'holder silent' })]);
    await pollFourTimes();
    expect(delivered('CT Head')).toHaveLength(1);
  });

  it('leaves the lease of a holder that keeps beating, then takes it once that holder falls silent', async () => {
    const live = twin('live');
    await store.heartbeat(live, await store.clockNow());
    await owedAndLeasedTo(xrChest, live);

    await pollFourTimes();
    expect(delivered('XR Chest')).toHaveLength(0);
    expect(bot.events('leases-released')).toEqual([]);

    // Its last beat was 5 s ago by the database's clock (here the injected one): it is gone.
    now = new Date(now.getTime() + 5_000);
    await pollFourTimes();
    expect(delivered('XR Chest')).toHaveLength(1);
    const [retrieval] = await store.retrievalsFor('29:a:holders-chat', 1);
    expect((await store.notificationsFor(retrieval!.id)).map((n) => [n.state, n.attempts])).toEqual([['sent', 2]]);
  });
});
