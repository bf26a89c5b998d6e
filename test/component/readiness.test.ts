/**
 * /healthz says the process is alive; /readyz says whether it can serve turns: 200 when the database
 * answers, 503 naming it when not (and logging it). A PACS outage leaves /readyz 200, so a cloud health
 * probe never takes out an instance that can still answer the guide's questions; the PACS side (the
 * PACS and the poll loop) is reported on /readyz?pacs=1, 503 naming what does not answer.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import { StoreError, type StorePort } from '../../src/ports/store-port';
import { BotHarness } from '../support/bot-harness';
import { london } from '../support/instants';

describe('/healthz and /readyz', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;
  let databaseUp = true;

  beforeEach(async () => {
    pacs = new FakePacs({ local: [], sites: {} });
    const inner = createMemoryStore();
    databaseUp = true;
    store = { ...inner, ping: () => (databaseUp ? inner.ping() : Promise.reject(new StoreError('unavailable', 'gone'))) };
    bot = await new BotHarness().start({}, () => london('2026-12-02T02:00'), { pacs, store });
  });
  afterEach(() => bot.stop());

  const ready = async (
    query = '',
  ): Promise<{ status: number; body: { status: string; checks: Record<string, { ok: boolean; reason: string | null }> } }> => {
    const res = await fetch(`${bot.url}/readyz${query}`);
    return { status: res.status, body: (await res.json()) as never };
  };

  it('is ready when the database answers; ?pacs=1 adds the PACS and the poll loop', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: { ok: true, reason: null } } } });
    expect(await ready('?pacs=1')).toEqual({
      status: 200,
      body: {
        status: 'ready',
        checks: { database: { ok: true, reason: null }, pacs: { ok: true, reason: null }, poll: { ok: true, reason: null } },
      },
    });
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });

  it('stays ready when the PACS does not answer; ?pacs=1 is 503 naming the PACS', async () => {
    pacs.reachable = false;
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: { ok: true, reason: null } } } });
    const { status, body } = await ready('?pacs=1');
    expect(status).toBe(503);
    expect(body.checks).toEqual({
      database: { ok: true, reason: null },
      pacs: { ok: false, reason: 'unreachable' },
      poll: { ok: true, reason: null },
    });
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    expect(bot.logger.lines.some((l) => l.includes('"event":"not-ready"') && l.includes('"pacs":"unreachable"'))).toBe(true);
  });

  it('is not ready, naming the database, when the database does not answer; ready again when it is back', async () => {
    databaseUp = false;
    expect(await ready()).toMatchObject({ status: 503, body: { checks: { database: { ok: false, reason: 'unavailable' } } } });
    databaseUp = true;
    expect((await ready()).status).toBe(200);
  });
});
