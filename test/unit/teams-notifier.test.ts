/**
 * The Teams notifier against a real CloudAdapter (development mode) with nock as the Bot Connector:
 * how each connector answer is classified, retried (on an injected clock: nothing really waits),
 * paced per conversation, and logged.
 */
import type { CloudAdapter, ConversationReference } from 'botbuilder';
import nock from 'nock';
import { createTeamsNotifier, NotifierError, type TeamsNotifierOptions } from '../../src/adapters/notifier/teams-notifier';
import { createConversationPacer } from '../../src/adapters/notifier/conversation-pacer';
import { backoffDelayMs, classifySendFailure, parseRetryAfter } from '../../src/adapters/notifier/send-failures';
import { parseConfig } from '../../src/config/config';
import { createMemoryLogger } from '../../src/logging/logger';
import { createAdapter } from '../../src/teams/http-server';
import { serviceUrl } from '../support/bot-harness';

const origin = serviceUrl.replace(/\/$/, '');
/** A fixed instant on a whole second, so HTTP dates (second precision) are exact. */
const epoch = Date.UTC(2025, 0, 6, 9, 0, 0);

function referenceTo(conversationId: string): Partial<ConversationReference> {
  return {
    serviceUrl,
    channelId: 'msteams',
    conversation: { id: conversationId, conversationType: 'personal', isGroup: false, name: '' },
    bot: { id: '28:bot', name: 'Image Sharing' },
    user: { id: '29:user-1', name: 'Test Clinician' },
  };
}

const chat = 'a:chat-1';
const postPath = (conversationId: string) => `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;
const putPath = (conversationId: string, activityId: string) => `${postPath(conversationId)}/${encodeURIComponent(activityId)}`;

/** A clock that only moves when the notifier sleeps; every sleep is recorded. */
function fakeTime(start = epoch) {
  const time = { now: start, waits: [] as number[] };
  return {
    time,
    now: () => time.now,
    sleep: async (ms: number) => {
      const until = time.now + ms;
      time.waits.push(ms);
      await Promise.resolve();
      time.now = Math.max(time.now, until);
    },
  };
}

function setUp(overrides: Partial<TeamsNotifierOptions> = {}) {
  const logger = createMemoryLogger();
  const adapter = createAdapter(parseConfig({}), logger);
  const clock = fakeTime();
  const notifier = createTeamsNotifier({ adapter, appId: '', logger, random: () => 0.5, now: clock.now, sleep: clock.sleep, ...overrides });
  const lines = () => logger.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { notifier, adapter, logger, clock, lines, attempts: () => lines().filter((l) => l.event === 'notify-attempt') };
}

/**
 * Makes the connector's next `count` requests fail as core-rest-pipeline's Node HTTP client does when
 * the connection drops (a RestError carrying the socket's code, no response). Injected as a pipeline
 * policy rather than with nock's replyWithError: under nock 14 a socket error is re-emitted unhandled
 * when an earlier test file in the same Jest worker left its own nock interceptor in place.
 */
function dropConnections(adapter: CloudAdapter, count: number, code: string): void {
  let left = count;
  adapter.use(async (context, next) => {
    const connector = context.turnState.get(adapter.ConnectorClientKey);
    connector.client.pipeline.addPolicy({
      name: 'test-drop-connection',
      sendRequest: (request: unknown, nextPolicy: (request: unknown) => Promise<unknown>) => {
        if (left <= 0) return nextPolicy(request);
        left -= 1;
        return Promise.reject(Object.assign(new Error('socket hang up'), { name: 'RestError', code }));
      },
    });
    await next();
  });
}

/** Replies to POSTs into `conversationId` with `answers` in turn, recording the bodies. */
function connectorAnswers(conversationId: string, answers: Array<[number, unknown?, Record<string, string>?]>) {
  const seen: unknown[] = [];
  const scope = nock(origin);
  for (const [status, body, headers] of answers) {
    scope
      .post(postPath(conversationId), (posted) => {
        seen.push(posted);
        return true;
      })
      .reply(status, (body ?? {}) as nock.Body, headers);
  }
  return { scope, seen };
}

const ok: [number, unknown] = [200, { id: '1:delivered' }];
const text = { text: 'Your studies for TESTPATIENT ALICE (943 476 5919) are on UH Bristol PACS.' };

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});
afterAll(() => {
  // Later test files in this Jest worker get an unpatched http module.
  nock.restore();
});

describe('sending', () => {
  it('posts a new message (not a reply to the continuation) and returns its id', async () => {
    const { notifier, clock, lines } = setUp();
    const { scope, seen } = connectorAnswers(chat, [ok]);
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'sent', activityId: '1:delivered' });
    expect(scope.isDone()).toBe(true);
    expect(seen).toEqual([
      expect.objectContaining({ type: 'message', text: text.text, conversation: expect.objectContaining({ id: chat }) }),
    ]);
    expect((seen[0] as { replyToId?: string }).replyToId).toBeUndefined();
    expect(clock.time.waits).toEqual([]);
    expect(lines().map((l) => l.event)).toEqual(['notify-attempt']);
  });

  it('429 with Retry-After: 2 waits at least 2 s, then sends', async () => {
    const { notifier, clock } = setUp();
    const { scope, seen } = connectorAnswers(chat, [
      [429, { error: { code: 'Throttled', message: 'slow down' } }, { 'Retry-After': '2' }],
      ok,
    ]);
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'sent', activityId: '1:delivered' });
    expect(scope.isDone()).toBe(true);
    expect(seen).toHaveLength(2);
    expect(clock.time.waits).toHaveLength(1);
    expect(clock.time.waits[0]).toBeGreaterThanOrEqual(2000);
  });

  it('Retry-After as an HTTP date is honoured against the injected clock', async () => {
    const { notifier, clock } = setUp();
    const date = new Date(epoch + 5000).toUTCString();
    connectorAnswers(chat, [[429, {}, { 'Retry-After': date }], ok]);
    expect((await notifier.send(referenceTo(chat), text)).kind).toBe('sent');
    expect(clock.time.waits).toEqual([5000]);
  });

  it('the larger of Retry-After and the backoff is used', async () => {
    const { notifier, clock } = setUp({ random: () => 0.99, baseDelayMs: 4000 });
    connectorAnswers(chat, [[429, {}, { 'Retry-After': '1' }], ok]);
    expect((await notifier.send(referenceTo(chat), text)).kind).toBe('sent');
    expect(clock.time.waits).toEqual([3960]);
  });

  it('a Retry-After longer than maxDelayMs is handed back rather than waited out', async () => {
    const { notifier, clock } = setUp({ maxDelayMs: 10_000 });
    const { seen } = connectorAnswers(chat, [[429, {}, { 'Retry-After': '60' }]]);
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'retry', afterMs: 60_000, reason: 'throttled' });
    expect(seen).toHaveLength(1);
    expect(clock.time.waits).toEqual([]);
  });

  it('502 twice then 200: three requests, two waits (the HTTP pipeline does not retry on its own)', async () => {
    const { notifier, clock, attempts } = setUp();
    const { scope, seen } = connectorAnswers(chat, [[502], [502], ok]);
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'sent', activityId: '1:delivered' });
    expect(scope.isDone()).toBe(true);
    expect(seen).toHaveLength(3);
    expect(clock.time.waits).toHaveLength(2);
    expect(attempts().map((l) => [l.status, l.outcome])).toEqual([
      [502, 'retrying'],
      [502, 'retrying'],
      [200, 'sent'],
    ]);
  });

  it.each([
    [504, 'gateway-timeout'],
    [503, 'service-unavailable'],
    [500, 'server-error'],
    [412, 'precondition-failed'],
  ])('%i is transient: retried, then sent', async (status, reason) => {
    const { notifier, clock, attempts } = setUp();
    const { seen } = connectorAnswers(chat, [[status, { error: { code: 'X', message: 'y' } }], ok]);
    expect((await notifier.send(referenceTo(chat), text)).kind).toBe('sent');
    expect(seen).toHaveLength(2);
    expect(clock.time.waits).toHaveLength(1);
    expect(attempts()[0]).toMatchObject({ status, outcome: 'retrying', reason });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT'])('a network error (%s) is transient', async (code) => {
    const { notifier, adapter, clock, attempts, lines } = setUp();
    dropConnections(adapter, 1, code);
    const { scope, seen } = connectorAnswers(chat, [ok]);
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'sent', activityId: '1:delivered' });
    expect(scope.isDone()).toBe(true);
    expect(seen).toHaveLength(1);
    expect(clock.time.waits).toHaveLength(1);
    expect(attempts()[0]).toMatchObject({ status: null, outcome: 'retrying', reason: 'network' });
    expect(lines().some((l) => l.event === 'turn-error')).toBe(false);
  });

  it('network errors every time come back as retry', async () => {
    const { notifier, adapter } = setUp({ maxAttempts: 2 });
    dropConnections(adapter, 2, 'ECONNRESET');
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'retry', afterMs: 2000, reason: 'network' });
  });

  it('403 is permanent: exactly one request, and no apology posted by onTurnError', async () => {
    const { notifier, clock, lines } = setUp();
    let requests = 0;
    nock(origin)
      .persist()
      .post(/\/v3\/conversations\/.+\/activities/)
      .reply(() => {
        requests += 1;
        return [403, { error: { code: 'BotNotInConversationRoster', message: 'The bot is not part of the conversation roster.' } }];
      });
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'permanent', reason: 'not-in-roster' });
    expect(requests).toBe(1);
    expect(clock.time.waits).toEqual([]);
    expect(lines().map((l) => l.event)).toEqual(['notify-attempt']);
  });

  it.each([
    [403, 'ConversationBlockedByUser', 'blocked-by-user'],
    [403, 'SomethingElse', 'forbidden'],
    [404, 'ConversationNotFound', 'not-found'],
    [400, 'BadArgument', 'bad-request'],
    [401, 'Unauthorized', 'unauthorized'],
  ])('%i (%s) is permanent: %s, one request', async (status, code, reason) => {
    const { notifier, clock } = setUp();
    const { seen } = connectorAnswers(chat, [[status, { error: { code, message: 'nope' } }]]);
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'permanent', reason });
    expect(seen).toHaveLength(1);
    expect(clock.time.waits).toEqual([]);
  });

  it('retries exhausted: maxAttempts requests, then a retry outcome for the caller to persist', async () => {
    const { notifier, clock, attempts } = setUp();
    const { scope, seen } = connectorAnswers(chat, [[503], [503], [503], [503]]);
    expect(await notifier.send(referenceTo(chat), text)).toEqual({ kind: 'retry', afterMs: 8000, reason: 'service-unavailable' });
    expect(scope.isDone()).toBe(true);
    expect(seen).toHaveLength(4);
    expect(clock.time.waits).toEqual([250, 500, 1000]);
    expect(attempts().map((l) => l.outcome)).toEqual(['retrying', 'retrying', 'retrying', 'retry-later']);
  });

  it('a reference with no service URL is refused without a request', async () => {
    const { notifier } = setUp();
    expect(await notifier.send({ ...referenceTo(chat), serviceUrl: undefined }, text)).toEqual({
      kind: 'permanent',
      reason: 'invalid-reference',
    });
  });
});

describe('jitter', () => {
  it('each wait is uniform below a ceiling that doubles from baseDelayMs', async () => {
    const draws = [0, 0.999999, 0.5];
    const { notifier, clock } = setUp({ random: () => draws.shift() ?? 0.5 });
    connectorAnswers(chat, [[503], [503], [503], ok]);
    expect((await notifier.send(referenceTo(chat), text)).kind).toBe('sent');
    const [first, second, third] = clock.time.waits;
    expect(first).toBe(0);
    expect(second).toBeGreaterThanOrEqual(0);
    expect(second).toBeLessThan(1000);
    expect(second).toBeGreaterThan(990);
    expect(third).toBe(1000);
  });

  it('never exceeds maxDelayMs, even with a random() that misbehaves', () => {
    const options = { baseDelayMs: 500, maxDelayMs: 30_000 };
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      for (const r of [0, 0.25, 0.5, 0.999, 1, 7, -1]) {
        const delay = backoffDelayMs(attempt, { ...options, random: () => r });
        const ceiling = Math.min(30_000, 500 * 2 ** (attempt - 1));
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });
});

describe('updating', () => {
  it('replaces the message with a PUT to its activity id', async () => {
    const { notifier } = setUp();
    let body: unknown;
    const scope = nock(origin)
      .put(putPath(chat, '1:card'), (b) => {
        body = b;
        return true;
      })
      .reply(200, { id: '1:card' });
    expect(await notifier.update(referenceTo(chat), '1:card', { text: 'Stored' })).toEqual({ kind: 'sent', activityId: '1:card' });
    expect(scope.isDone()).toBe(true);
    expect(body).toMatchObject({ id: '1:card', text: 'Stored' });
  });

  it('keeps the activity id when the connector answers without one', async () => {
    const { notifier } = setUp();
    nock(origin).put(putPath(chat, '1:card')).reply(200, {});
    expect(await notifier.update(referenceTo(chat), '1:card', { text: 'Stored' })).toEqual({ kind: 'sent', activityId: '1:card' });
  });

  it('429 then 200 on the PUT: retried', async () => {
    const { notifier, clock } = setUp();
    const scope = nock(origin)
      .put(putPath(chat, '1:card'))
      .reply(429, {}, { 'Retry-After': '3' })
      .put(putPath(chat, '1:card'))
      .reply(200, { id: '1:card' });
    expect((await notifier.update(referenceTo(chat), '1:card', { text: 'Stored' })).kind).toBe('sent');
    expect(scope.isDone()).toBe(true);
    expect(clock.time.waits).toEqual([3000]);
  });

  it('404 on the PUT is permanent', async () => {
    const { notifier } = setUp();
    nock(origin)
      .put(putPath(chat, '1:gone'))
      .reply(404, { error: { code: 'ActivityNotFoundInConversation', message: 'x' } });
    expect(await notifier.update(referenceTo(chat), '1:gone', { text: 'Stored' })).toEqual({ kind: 'permanent', reason: 'not-found' });
  });
});

describe('pacing', () => {
  it('20 sends to one conversation take at least 2 s (7 a second)', async () => {
    const { notifier, clock } = setUp();
    const scope = nock(origin).post(postPath(chat)).times(20).reply(200, { id: '1:x' });
    for (let i = 0; i < 20; i += 1) expect((await notifier.send(referenceTo(chat), { text: `message ${i}` })).kind).toBe('sent');
    expect(scope.isDone()).toBe(true);
    expect(clock.time.now - epoch).toBeGreaterThanOrEqual(2000);
    expect(clock.time.now - epoch).toBeLessThan(3000);
  });

  it('sends to two conversations do not wait on each other', async () => {
    const { notifier, clock } = setUp();
    nock(origin)
      .post(postPath('a:chat-a'))
      .times(14)
      .reply(200, { id: '1:a' })
      .post(postPath('a:chat-b'))
      .times(7)
      .reply(200, { id: '1:b' });
    for (let i = 0; i < 7; i += 1) await notifier.send(referenceTo('a:chat-a'), { text: 'a' });
    for (let i = 0; i < 7; i += 1) await notifier.send(referenceTo('a:chat-b'), { text: 'b' });
    expect(clock.time.waits).toEqual([]);
    await notifier.send(referenceTo('a:chat-a'), { text: 'a' });
    expect(clock.time.waits).toEqual([1000]);
  });

  it('concurrent sends: a busy conversation holds back only its own messages', async () => {
    const held: Array<{ ms: number; release: () => void }> = [];
    const { notifier } = setUp({ sleep: (ms) => new Promise<void>((release) => held.push({ ms, release })) });
    nock(origin)
      .post(postPath('a:chat-a'))
      .times(14)
      .reply(200, { id: '1:a' })
      .post(postPath('a:chat-b'))
      .times(7)
      .reply(200, { id: '1:b' });
    const toA = Array.from({ length: 14 }, () => notifier.send(referenceTo('a:chat-a'), { text: 'a' }));
    const toB = Array.from({ length: 7 }, () => notifier.send(referenceTo('a:chat-b'), { text: 'b' }));
    // Every message to B goes while the second second's worth for A is still held back.
    expect((await Promise.all(toB)).every((o) => o.kind === 'sent')).toBe(true);
    expect(held.map((h) => h.ms)).toEqual(Array(7).fill(1000));
    held.forEach((h) => h.release());
    expect((await Promise.all(toA)).every((o) => o.kind === 'sent')).toBe(true);
  });

  it('the pacer forgets quiet conversations and allows a full second again', async () => {
    const clock = fakeTime(0);
    const pacer = createConversationPacer({ perSecond: 2, now: clock.now, sleep: clock.sleep });
    expect([await pacer.acquire('c'), await pacer.acquire('c'), await pacer.acquire('c')]).toEqual([0, 0, 1000]);
    clock.time.now += 5000;
    expect([await pacer.acquire('c'), await pacer.acquire('c')]).toEqual([0, 0]);
  });
});

describe('logging', () => {
  it('logs each attempt with the conversation id and status, never the message', async () => {
    const { notifier, logger, attempts } = setUp();
    connectorAnswers(chat, [[429, {}, { 'Retry-After': '1' }], ok]);
    await notifier.send(referenceTo(chat), text);
    expect(attempts()).toEqual([
      expect.objectContaining({ level: 'warn', conversation: chat, attempt: 1, status: 429, outcome: 'retrying', reason: 'throttled' }),
      expect.objectContaining({ level: 'info', conversation: chat, attempt: 2, status: 200, outcome: 'sent' }),
    ]);
    const all = logger.lines.join('\n');
    expect(all).not.toContain('TESTPATIENT');
    expect(all).not.toContain('943');
  });
});

describe('classifying failures', () => {
  const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] });

  it('reads RestError-shaped errors: statusCode and response.headers.get', () => {
    expect(
      classifySendFailure(
        { name: 'RestError', statusCode: 429, response: { status: 429, headers: headers({ 'retry-after': '7' }) } },
        epoch,
      ),
    ).toEqual({
      kind: 'transient',
      reason: 'throttled',
      status: 429,
      retryAfterMs: 7000,
    });
  });

  it('reads a response status and plain-object headers', () => {
    expect(classifySendFailure({ response: { status: 503, headers: { 'Retry-After': '1.5' } } }, epoch)).toMatchObject({
      kind: 'transient',
      status: 503,
      retryAfterMs: 1500,
    });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'])('%s with no response is a network failure', (code) => {
    expect(classifySendFailure(Object.assign(new Error('boom'), { code }), epoch)).toEqual({
      kind: 'transient',
      reason: 'network',
      status: null,
      retryAfterMs: null,
    });
  });

  it('recognises "socket hang up" and a code on the cause', () => {
    expect(classifySendFailure(new Error('socket hang up'), epoch)).toMatchObject({ reason: 'network' });
    expect(classifySendFailure(new Error('fetch failed', { cause: { code: 'ECONNREFUSED' } }), epoch)).toMatchObject({ reason: 'network' });
  });

  it('other 5xx are transient, other 4xx permanent, and the unknown is retried rather than dropped', () => {
    expect(classifySendFailure({ statusCode: 507 }, epoch)).toMatchObject({ kind: 'transient', reason: 'server-error' });
    expect(classifySendFailure({ statusCode: 413 }, epoch)).toMatchObject({ kind: 'permanent', reason: 'too-large' });
    expect(classifySendFailure({ statusCode: 409 }, epoch)).toMatchObject({ kind: 'permanent', reason: 'rejected' });
    expect(classifySendFailure(new TypeError('x is undefined'), epoch)).toMatchObject({ kind: 'transient', reason: 'unknown' });
    expect(classifySendFailure('a string', epoch)).toMatchObject({ kind: 'transient', reason: 'unknown' });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2', epoch)).toBe(2000);
    expect(parseRetryAfter(' 0 ', epoch)).toBe(0);
    expect(parseRetryAfter(new Date(epoch + 30_000).toUTCString(), epoch)).toBe(30_000);
    expect(parseRetryAfter(new Date(epoch - 30_000).toUTCString(), epoch)).toBe(0);
    expect(parseRetryAfter('soon', epoch)).toBeNull();
    expect(parseRetryAfter('-5', epoch)).toBeNull();
    expect(parseRetryAfter(null, epoch)).toBeNull();
  });
});

describe('options', () => {
  it('refuses options out of range', () => {
    const adapter = createAdapter(parseConfig({}), createMemoryLogger());
    const base = { adapter, appId: '', logger: createMemoryLogger() };
    for (const bad of [{ maxAttempts: 0 }, { maxAttempts: 1.5 }, { perConversationPerSecond: 0 }, { baseDelayMs: 100, maxDelayMs: 50 }]) {
      expect(() => createTeamsNotifier({ ...base, ...bad })).toThrow(
        expect.objectContaining({ name: 'NotifierError', reason: 'invalid-options' }),
      );
    }
    expect(() => createTeamsNotifier({ ...base, maxAttempts: 0 })).toThrow(NotifierError);
  });
});
