/**
 * The development browser chat's channel (src/dev/dev-chat.ts), without a browser: what the page
 * posts goes through the bot's real /api/messages, the bot's replies (proactive ones and card updates
 * in place included) come back to the channel's connector endpoints and into the log the page polls.
 * In production mode none of it exists.
 */
import { createApplication, type Application } from '../../src/application';
import { createDemoPacs } from '../../src/adapters/pacs/demo-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import { parseConfig } from '../../src/config/config';
import { createMemoryLogger } from '../../src/logging/logger';
import { localUser, maxConversations, maxEntriesPerConversation } from '../../src/dev/dev-chat';
import { actionsOf, textOf } from '../support/bot-harness';
import { safeProduction } from '../support/production-env';

interface Entry {
  seq: number;
  kind: 'message' | 'update';
  id: string;
  from?: 'user' | 'bot';
  text: string | null;
  attachments: Array<{ contentType: string; content: any }>;
  timestamp?: string;
  pretend?: boolean;
  pressed?: string | null;
  replyToId?: string | null;
}

const night = '2026-12-03T02:00:00.000Z'; // Thursday 02:00 GMT
const realNow = new Date('2026-07-15T11:00:00Z'); // what the app's clock says

async function startDev(): Promise<{ app: Application; url: string; logger: ReturnType<typeof createMemoryLogger> }> {
  const logger = createMemoryLogger('debug');
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' });
  const app = await createApplication(config, {
    logger,
    clock: () => realNow,
    pollIntervalMs: 0,
    store: createMemoryStore(),
    pacs: createDemoPacs({ retrievalMs: 0, slowSiteMs: 50 }),
  });
  const port = await app.listen();
  return { app, url: `http://127.0.0.1:${port}`, logger };
}

function cardText(entry: Entry): string {
  return entry.attachments.map((a) => textOf(a.content)).join('\n');
}

describe('the development browser chat', () => {
  let app: Application;
  let url: string;
  let logger: ReturnType<typeof createMemoryLogger>;

  beforeAll(async () => {
    ({ app, url, logger } = await startDev());
  });
  afterAll(async () => {
    await app?.close();
  });

  const send = async (body: Record<string, unknown>): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${url}/chat/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const messages = async (conversationId: string, since = 0): Promise<{ last: number; epoch: string; entries: Entry[] }> => {
    const res = await fetch(`${url}/chat/api/messages?conversationId=${conversationId}&since=${since}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { last: number; epoch: string; entries: Entry[] };
  };

  it('serves the page, its script and styles, and the Adaptive Cards renderer', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('/chat/adaptivecards.min.js');
    expect(html).toContain('Pretend it is');

    for (const [asset, type] of [
      ['chat.js', 'text/javascript'],
      ['chat.css', 'text/css'],
      ['adaptivecards.min.js', 'text/javascript'],
    ]) {
      const res = await fetch(`${url}/chat/${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    expect(await (await fetch(`${url}/chat/adaptivecards.min.js`)).text()).toContain('AdaptiveCards');
  });

  it('serves nothing else from disk', async () => {
    for (const probe of [
      '/chat/package.json',
      '/chat/..%2Fpackage.json',
      '/chat/%2e%2e%2fsrc%2fapplication.ts',
      '/chat/index.htm',
      '/chat/constructor',
      '/chat/__proto__',
      '/chat/',
    ]) {
      const res = await fetch(`${url}${probe}`);
      expect([400, 404, 405]).toContain(res.status);
      expect(await res.text()).not.toContain('"dependencies"');
    }
    expect(logger.lines.join('\n')).not.toContain('dev-chat-asset-missing');
  });

  it('sends "help" through /api/messages and shows the welcome card', async () => {
    const sent = await send({ conversationId: 'c-help', text: 'help' });
    expect(sent.status).toBe(202);
    const log = await messages('c-help');
    expect(log.entries.map((e) => `${e.kind}:${e.from}`)).toEqual(['message:user', 'message:bot']);
    const [mine, reply] = log.entries as [Entry, Entry];
    expect(mine.text).toBe('help');
    expect(mine.timestamp).toBe(realNow.toISOString());
    expect(mine.pretend).toBe(false);
    expect(reply.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(cardText(reply)).toContain('Image Sharing Assistant');
    expect(reply.replyToId).toBe(mine.id);
    // Only what came after `since`.
    expect((await messages('c-help', log.last)).entries).toEqual([]);
    // The log never carries the typed text.
    expect(logger.lines.join('\n')).not.toContain('"help"');
  });

  it('greets a new conversation like an install in Teams', async () => {
    expect((await send({ conversationId: 'c-install', event: 'install' })).status).toBe(202);
    const log = await messages('c-install');
    expect(log.entries).toHaveLength(1);
    expect(cardText(log.entries[0]!)).toContain('Image Sharing Assistant');
  });

  it('uses the pretended instant as the message time ("how do I get Taunton access" at 02:00)', async () => {
    await send({ conversationId: 'c-time', text: 'how do I get Taunton access?', pretend: night });
    const log = await messages('c-time');
    const [mine, reply] = log.entries as [Entry, Entry];
    expect(mine.timestamp).toBe(night);
    expect(mine.pretend).toBe(true);
    const text = cardText(reply);
    expect(text).toContain('02:00 on Thu 3 Dec (GMT)');
    expect(text).toContain('01823 343317');
  });

  it('passes a button press (value and the card it was on) and shows the card it leads to', async () => {
    await send({ conversationId: 'c-press', text: 'help' });
    const card = (await messages('c-press')).entries[1]!;
    const find = actionsOf(card.attachments[0]!.content).find((a) => a.title.startsWith('Find the right way'))!;
    const pressed = await send({ conversationId: 'c-press', value: find.data, replyToId: card.id, label: find.title });
    expect(pressed.status).toBe(202);
    const after = (await messages('c-press', 2)).entries;
    expect(after[0]).toMatchObject({ from: 'user', pressed: find.title, text: null, replyToId: card.id });
    expect(cardText(after[1]!)).toContain('Which Trust holds the images?');
  });

  it('finds a demo patient, confirms a retrieval (the card is replaced in place) and delivers the proactive notification', async () => {
    const c = 'c-retrieve';
    await send({ conversationId: c, text: 'find images for 999 000 0018' });
    await app.idle();
    const found = (await messages(c)).entries;
    const studies = found.find((e) => e.from === 'bot' && cardText(e).includes('At other sites'))!;
    expect(studies).toBeDefined();
    const card = studies.attachments[0]!.content;
    const toggle = JSON.stringify(card).match(/"type":"Input.Toggle","id":"([^"]+)","title":"[^"]*CT Head/)!;
    const retrieve = actionsOf(card).find((a) => a.title === 'Retrieve selected')!;
    await send({
      conversationId: c,
      value: { ...(retrieve.data as object), [toggle[1]!]: 'true' },
      replyToId: studies.id,
      label: retrieve.title,
    });
    const afterPick = await messages(c);
    const confirmCard = afterPick.entries.filter((e) => e.from === 'bot').pop()!;
    const confirm = actionsOf(confirmCard.attachments[0]!.content).find((a) => a.title.startsWith('Confirm retrieval'))!;
    expect(confirm).toBeDefined();

    await send({ conversationId: c, value: confirm.data, replyToId: confirmCard.id, label: confirm.title });
    const afterConfirm = await messages(c, afterPick.last);
    const update = afterConfirm.entries.find((e) => e.kind === 'update')!;
    expect(update.id).toBe(confirmCard.id);
    expect(actionsOf(update.attachments[0]?.content ?? {}).some((a) => a.title.startsWith('Confirm retrieval'))).toBe(false);

    // The demo retrieval finishes at once; one poll cycle announces it, proactively.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await app.pollOnce();
    const later = (await messages(c, afterConfirm.last)).entries;
    const done = later.find((e) => e.kind === 'message' && (e.text ?? '').includes('is now on UH Bristol PACS'));
    expect(done).toBeDefined();
    expect(done!.text).toContain('CT Head');
  });

  it('replaces a message in place on PUT, and 404s an unknown one', async () => {
    const c = 'c-put';
    const post = await fetch(`${url}/chat/connector/v3/conversations/${c}/activities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', text: 'first' }),
    });
    const { id } = (await post.json()) as { id: string };
    const put = await fetch(`${url}/chat/connector/v3/conversations/${c}/activities/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', id, text: 'second' }),
    });
    expect(put.status).toBe(200);
    const log = await messages(c);
    expect(log.entries.map((e) => [e.kind, e.id, e.text])).toEqual([
      ['message', id, 'first'],
      ['update', id, 'second'],
    ]);
    const unknown = await fetch(`${url}/chat/connector/v3/conversations/${c}/activities/nope`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"message"}',
    });
    expect(unknown.status).toBe(404);
  });

  it('refuses malformed requests', async () => {
    expect((await send({ text: 'no conversation' })).status).toBe(400);
    expect((await send({ conversationId: 'bad id!', text: 'x' })).status).toBe(400);
    expect((await send({ conversationId: 'c-bad', text: 'x', value: { a: 1 } })).status).toBe(400);
    expect((await send({ conversationId: 'c-bad' })).status).toBe(400);
    expect((await send({ conversationId: 'c-bad', text: 'x', pretend: '2026-12-03T02:00' })).status).toBe(400);
    expect((await send({ conversationId: 'c-bad', text: 'x', extra: true })).status).toBe(400);
    expect((await fetch(`${url}/chat/api/messages?since=0`)).status).toBe(400);
    expect((await fetch(`${url}/chat/api/messages?conversationId=c&since=-1`)).status).toBe(400);
  });

  it('keeps a bounded log: the newest messages per conversation, and the most recent conversations', async () => {
    const postTo = (c: string, text: string) =>
      fetch(`${url}/chat/connector/v3/conversations/${c}/activities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', text }),
      });
    for (let i = 1; i <= maxEntriesPerConversation + 10; i += 1) await postTo('c-many', `m${i}`);
    const log = await messages('c-many');
    expect(log.entries).toHaveLength(maxEntriesPerConversation);
    expect(log.entries[0]!.text).toBe('m11');
    expect(log.last).toBe(maxEntriesPerConversation + 10);

    for (let i = 0; i < maxConversations; i += 1) await postTo(`c-lru-${i}`, 'hello');
    expect((await messages('c-many')).entries).toEqual([]);
    expect((await messages(`c-lru-${maxConversations - 1}`)).entries).toHaveLength(1);
  });

  it('names the local tester as the sender', () => {
    expect(localUser).toMatchObject({ id: 'local-user', name: 'Local tester' });
  });
});

describe('in production mode', () => {
  let app: Application;
  let url: string;

  beforeAll(async () => {
    const config = parseConfig({ ...safeProduction, PORT: '0', HOST: '127.0.0.1' });
    app = await createApplication(config, {
      logger: createMemoryLogger(),
      clock: () => realNow,
      pollIntervalMs: 0,
      store: createMemoryStore(),
    });
    url = `http://127.0.0.1:${await app.listen()}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ['GET', '/'],
    ['GET', '/chat/chat.js'],
    ['GET', '/chat/adaptivecards.min.js'],
    ['GET', '/chat/api/info'],
    ['GET', '/chat/api/messages?conversationId=c&since=0'],
    ['POST', '/chat/api/send'],
    ['POST', '/chat/connector/v3/conversations/c/activities'],
    ['POST', '/chat/connector/v3/conversations/c/activities/a'],
    ['PUT', '/chat/connector/v3/conversations/c/activities/a'],
  ])('%s %s answers 404', async (method, path) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(method === 'GET'
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ conversationId: 'c', text: 'help', type: 'message' }),
          }),
    });
    expect(res.status).toBe(404);
  });

  it('still answers /healthz', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
