/**
 * Which notification lease holders are gone processes on this machine (their leases may be freed at
 * once), and which must be left to run out: other machines, this process, live ones, odd names.
 */
import { goneOwners, ownerName, processAlive } from '../../src/retrieval/lease-owners';

describe('lease owners', () => {
  it('frees only holders on this host whose process is gone', () => {
    const alive = new Set([200]);
    const holders = [ownerName('bot-1', 100, 'aa'), ownerName('bot-1', 200, 'bb'), ownerName('bot-1', 300, 'cc'), ownerName('bot-2', 100, 'dd'), 'bot-1:x:ee', 'bot-1', 'bot-1:400'];
    expect(goneOwners(holders, 'bot-1', 300, (pid) => alive.has(pid))).toEqual(['bot-1:100:aa']);
  });

  it('knows this process is alive, and a pid far beyond any in use is not', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 12345)).toBe(false);
  });
});
