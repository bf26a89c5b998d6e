/**
 * Development only: a browser chat at GET / whose server side plays the Teams channel.
 *
 * The page posts what the person types or presses to POST /chat/api/send. That becomes a Bot
 * Framework message activity, posted over loopback HTTP to the bot's own /api/messages, so it goes
 * through exactly the pipeline Teams uses (restify, CloudAdapter, TeamsBot). The activity's
 * `serviceUrl` is this server's /chat/connector/, which answers the Bot Connector calls the bot
 * makes (new messages, replies, proactive messages, card updates in place) and keeps them in a small
 * in-memory log that the page polls (GET /chat/api/messages).
 *
 * In development mode the bot does not authenticate requests and sends its replies unsigned, so the
 * connector endpoints need no auth. application.ts registers these routes only in development mode:
 * in production /, /chat/... answer 404.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type restify from 'restify';
import { z } from 'zod';
import type { Logger } from '../logging/logger';
import { jsonBody } from '../teams/http-server';

/** What the browser chat needs from the application. */
export interface DevChatOptions {
  /** The bot's own base URL over loopback, e.g. http://127.0.0.1:3978 (known once listening). */
  readonly botUrl: () => string;
  readonly logger: Logger;
  /** The instant of a message when the page does not pretend otherwise. */
  readonly clock: () => Date;
  /** Folder holding index.html, chat.js and chat.css. */
  readonly publicDir: string;
  /** The zone the page reads "Pretend it is ..." in (the trust's zone); default Europe/London. */
  readonly timeZone?: string;
}

/** The person at the keyboard, as the bot sees them. Put the object id in RETRIEVAL_ALLOWED_USERS to allow it there. */
export const localUser = { id: 'local-user', name: 'Local tester', aadObjectId: '00000000-0000-4000-8000-00000000dc01' } as const;
/** The bot, as the channel names it. */
export const localBot = { id: 'local-bot', name: 'Image Sharing Assistant' } as const;
/** The channel id on the activities (not 'msteams': nothing here is Teams). */
export const devChatChannelId = 'webchat';

/** Messages kept per conversation, and conversations kept, before the oldest go. */
export const maxEntriesPerConversation = 500;
export const maxConversations = 50;

/** Longest wait for the bot to answer a posted activity. */
const botTimeoutMs = 30_000;

/** The loopback base URL of a listening server, for a configured host (0.0.0.0 and :: mean "any": use 127.0.0.1). */
export function loopbackUrl(server: restify.Server, host: string): string {
  const { port } = server.address();
  if (host === '0.0.0.0' || host === '::' || host === '') return `http://127.0.0.1:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** A card or file attached to a message, as the bot sent it. */
interface Attachment {
  readonly contentType: string;
  readonly content?: unknown;
  readonly contentUrl?: string;
  readonly name?: string;
}

/** What the page shows of an activity. */
interface Shown {
  readonly text: string | null;
  readonly attachments: readonly Attachment[];
}

/** One line of a conversation's log: a new message, or a message replaced in place. */
export type LogEntry =
  | ({
      readonly seq: number;
      readonly kind: 'message';
      readonly id: string;
      readonly from: 'user' | 'bot';
      readonly at: string;
      readonly replyToId: string | null;
    } & Shown & {
        /** For a user's message: the instant the bot was told it was sent, and whether it was pretended. */
        readonly timestamp?: string;
        readonly pretend?: boolean;
        /** For a button press: the button's title (display only; the bot gets the button's data). */
        readonly pressed?: string | null;
      })
  | ({ readonly seq: number; readonly kind: 'update'; readonly id: string; readonly at: string } & Shown)
  /** The bot's typing indicator (Teams shows it until the bot's next message). */
  | { readonly seq: number; readonly kind: 'typing'; readonly at: string };

/** A log entry before it is numbered. */
type NewEntry = LogEntry extends infer E ? (E extends LogEntry ? Omit<E, 'seq'> : never) : never;

interface ConversationLog {
  seq: number;
  entries: LogEntry[];
  /** Ids of messages in this conversation (so a PUT for an unknown id is a 404, as on Teams). */
  readonly ids: Set<string>;
}

/** The bounded in-memory log of every conversation, least recently used first. */
class ChatLog {
  private readonly conversations = new Map<string, ConversationLog>();

  get(conversationId: string): ConversationLog | undefined {
    return this.conversations.get(conversationId);
  }

  /** The conversation's log, created (and the least recently used one dropped) when new. */
  open(conversationId: string): ConversationLog {
    let log = this.conversations.get(conversationId);
    if (log) {
      // Most recently used last.
      this.conversations.delete(conversationId);
    } else {
      log = { seq: 0, entries: [], ids: new Set() };
      while (this.conversations.size >= maxConversations) {
        const oldest = this.conversations.keys().next().value as string;
        this.conversations.delete(oldest);
      }
    }
    this.conversations.set(conversationId, log);
    return log;
  }

  append(conversationId: string, entry: NewEntry): LogEntry {
    const log = this.open(conversationId);
    log.seq += 1;
    const full = { ...entry, seq: log.seq } as LogEntry;
    log.entries.push(full);
    if (full.kind === 'message') log.ids.add(full.id);
    while (log.entries.length > maxEntriesPerConversation) {
      const dropped = log.entries.shift()!;
      if (dropped.kind === 'message') log.ids.delete(dropped.id);
    }
    return full;
  }
}

const conversationId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_"');

const sendBody = z
  .object({
    conversationId,
    text: z.string().max(10_000).optional(),
    value: z.record(z.unknown()).optional(),
    /** Teams-like install: the bot greets with its welcome card. */
    event: z.literal('install').optional(),
    replyToId: z.string().max(200).optional(),
    /** The instant to pretend the message was sent at (ISO 8601 with an offset or Z). */
    pretend: z
      .string()
      .max(40)
      .refine(
        (s) => /(Z|[+-]\d\d:?\d\d)$/.test(s) && !Number.isNaN(new Date(s).getTime()),
        'must be an ISO 8601 instant with Z or an offset',
      )
      .optional(),
    /** The title of the button pressed, shown in the log only. */
    label: z.string().max(200).optional(),
  })
  .strict()
  .refine(
    (b) => [b.text !== undefined, b.value !== undefined, b.event !== undefined].filter(Boolean).length === 1,
    'send exactly one of text, value or event',
  );

/** What the bot posts to the connector: only what the page shows is kept. */
function shown(body: unknown): Shown & { type: string; replyToId: string | null } {
  const activity = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const attachments = Array.isArray(activity.attachments)
    ? (activity.attachments as unknown[])
        .filter(
          (a): a is Record<string, unknown> =>
            typeof a === 'object' && a !== null && typeof (a as { contentType?: unknown }).contentType === 'string',
        )
        .map((a) => ({
          contentType: a.contentType as string,
          content: a.content,
          ...(typeof a.contentUrl === 'string' ? { contentUrl: a.contentUrl } : {}),
          ...(typeof a.name === 'string' ? { name: a.name } : {}),
        }))
    : [];
  return {
    type: typeof activity.type === 'string' ? activity.type : 'message',
    text: typeof activity.text === 'string' && activity.text.length > 0 ? activity.text : null,
    attachments,
    replyToId: typeof activity.replyToId === 'string' ? activity.replyToId : null,
  };
}

/** Static files of the page: a fixed list, so nothing else on disk can be asked for. */
function assets(publicDir: string): Record<string, { file: string; type: string }> {
  return {
    'index.html': { file: path.join(publicDir, 'index.html'), type: 'text/html; charset=utf-8' },
    'chat.js': { file: path.join(publicDir, 'chat.js'), type: 'text/javascript; charset=utf-8' },
    'chat.css': { file: path.join(publicDir, 'chat.css'), type: 'text/css; charset=utf-8' },
    // Microsoft's Adaptive Cards renderer (self-contained UMD bundle: window.AdaptiveCards).
    'adaptivecards.min.js': { file: require.resolve('adaptivecards/dist/adaptivecards.min.js'), type: 'text/javascript; charset=utf-8' },
  };
}

const pageSecurityHeaders = {
  // The page runs only its own scripts; bot text never becomes markup unescaped (chat.js), and this is the second fence.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' " +
    "data: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** What the page's API and the connector stand-in share: the log, the start's epoch and id making. */
interface DevChatContext {
  readonly botUrl: () => string;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly timeZone: string;
  readonly log: ChatLog;
  /** Changes at every start, so a page polling across a restart knows to start over. */
  readonly epoch: string;
  /** A new message id, unique in this process: "user-3-1f2e3d4c". */
  readonly newId: (prefix: string) => string;
}

/** A fresh context for one registration: an empty log, a new epoch, ids counted from 1. */
function devChatContext(options: DevChatOptions): DevChatContext {
  const { botUrl, logger, clock } = options;
  let sequence = 0;
  return {
    botUrl,
    logger,
    clock,
    timeZone: options.timeZone ?? 'Europe/London',
    log: new ChatLog(),
    epoch: randomUUID(),
    newId: (prefix: string): string => {
      sequence += 1;
      return `${prefix}-${sequence}-${randomUUID().slice(0, 8)}`;
    },
  };
}

/** The page itself: GET / and its static files under /chat/. */
function registerPage(server: restify.Server, files: ReturnType<typeof assets>, logger: Logger): void {
  const sendAsset = async (name: string, res: restify.Response): Promise<void> => {
    const asset = Object.hasOwn(files, name) ? files[name] : undefined;
    if (!asset) {
      res.send(404, { error: 'not found' });
      return;
    }
    try {
      const body = await fs.readFile(asset.file);
      res.sendRaw(200, body, { 'content-type': asset.type, ...pageSecurityHeaders });
    } catch {
      logger.error('dev-chat-asset-missing', { asset: name });
      res.send(404, { error: 'not found' });
    }
  };

  server.get('/', async (_req, res) => sendAsset('index.html', res));
  server.get('/chat/:asset', async (req, res) => sendAsset(String((req.params as { asset?: string }).asset ?? ''), res));
}

/** The activity the channel posts to the bot for what the page sent. */
function activityFor(ctx: DevChatContext, body: z.infer<typeof sendBody>, id: string, timestamp: Date): Record<string, unknown> {
  const serviceUrl = `${ctx.botUrl()}/chat/connector/`;
  const common = {
    id,
    timestamp: timestamp.toISOString(),
    localTimezone: ctx.timeZone,
    locale: 'en-GB',
    channelId: devChatChannelId,
    serviceUrl,
    from: localUser,
    recipient: localBot,
    conversation: { id: body.conversationId, conversationType: 'personal', isGroup: false },
  };
  return body.event === 'install'
    ? { ...common, type: 'installationUpdate', action: 'add' }
    : {
        ...common,
        type: 'message',
        ...(body.text !== undefined ? { text: body.text, textFormat: 'plain' } : { value: body.value }),
        ...(body.replyToId ? { replyToId: body.replyToId } : {}),
      };
}

/** Posts an activity to the bot's /api/messages over loopback and answers the page with how that went. */
async function postToBot(ctx: DevChatContext, activity: Record<string, unknown>, res: restify.Response, accepted: object): Promise<void> {
  try {
    const answer = await fetch(`${ctx.botUrl()}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
      signal: AbortSignal.timeout(botTimeoutMs),
    });
    await answer.arrayBuffer();
    if (answer.status >= 400) {
      const hint =
        answer.status === 401 || answer.status === 403
          ? ': the browser chat needs MicrosoftAppId empty (unauthenticated development mode)'
          : '';
      res.send(502, { error: `The bot answered ${answer.status}${hint}.` });
      return;
    }
    res.send(202, accepted);
  } catch (error) {
    ctx.logger.error('dev-chat-send-failed', { error: error instanceof Error ? error.name : 'unknown' });
    res.send(502, { error: 'The bot did not answer.' });
  }
}

/** POST /chat/api/send: something typed, a button pressed, or "installed" -> logged, then an activity to the bot. */
async function send(ctx: DevChatContext, req: restify.Request, res: restify.Response): Promise<void> {
  const parsed = sendBody.safeParse(req.body);
  if (!parsed.success) {
    res.send(400, { error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    return;
  }
  const body = parsed.data;
  const timestamp = body.pretend ? new Date(body.pretend) : ctx.clock();
  const id = ctx.newId('user');
  const activity = activityFor(ctx, body, id, timestamp);
  if (body.event !== 'install') {
    ctx.log.append(body.conversationId, {
      kind: 'message',
      id,
      from: 'user',
      at: ctx.clock().toISOString(),
      replyToId: body.replyToId ?? null,
      text: body.text ?? null,
      attachments: [],
      timestamp: timestamp.toISOString(),
      pretend: body.pretend !== undefined,
      pressed: body.value !== undefined ? (body.label ?? 'a button') : null,
    });
  } else {
    ctx.log.open(body.conversationId);
  }
  ctx.logger.debug('dev-chat-send', {
    kind: body.event ?? (body.text !== undefined ? 'text' : 'submit'),
    pretend: body.pretend !== undefined,
  });
  await postToBot(ctx, activity, res, { id, timestamp: timestamp.toISOString() });
}

/** The channel's side that the page talks to: /chat/api/info, send and the polled messages. */
function registerChannel(server: restify.Server, ctx: DevChatContext): void {
  const { log, epoch } = ctx;
  server.get('/chat/api/info', async (_req, res) => {
    res.send(200, { epoch, timeZone: ctx.timeZone, user: localUser, bot: localBot });
    return Promise.resolve();
  });

  // The page: something typed, a button pressed, or "installed" -> an activity to the bot's /api/messages.
  server.post('/chat/api/send', ...jsonBody(), async (req: restify.Request, res: restify.Response) => send(ctx, req, res));

  // The page polls the log: everything after `since`.
  server.get('/chat/api/messages', async (req, res) => {
    const query = new URL(req.url ?? '/', 'http://local').searchParams;
    const id = conversationId.safeParse(query.get('conversationId'));
    const since = Number(query.get('since') ?? '0');
    if (!id.success || !Number.isInteger(since) || since < 0) {
      res.send(400, { error: 'conversationId (1-64 letters, digits, - or _) and since (a whole number) are required' });
      return Promise.resolve();
    }
    const conversation = log.get(id.data);
    const entries = conversation ? conversation.entries.filter((e) => e.seq > since) : [];
    res.send(200, { epoch, conversationId: id.data, last: conversation?.seq ?? 0, entries });
    return Promise.resolve();
  });
}

/** The Bot Connector stand-in under /chat/connector/, which the activities' serviceUrl points the bot at. */
function registerConnector(server: restify.Server, ctx: DevChatContext): void {
  const { log, clock } = ctx;
  // The Bot Connector, as far as the bot uses it: new messages, replies and proactive messages...
  const post = async (req: restify.Request, res: restify.Response): Promise<void> => {
    const params = req.params as { conversationId: string; replyToId?: string };
    const activity = shown(req.body);
    const id = ctx.newId('bot');
    if (activity.type === 'typing') {
      log.append(params.conversationId, { kind: 'typing', at: clock().toISOString() });
    } else if (activity.type === 'message') {
      log.append(params.conversationId, {
        kind: 'message',
        id,
        from: 'bot',
        at: clock().toISOString(),
        replyToId: params.replyToId ?? activity.replyToId,
        text: activity.text,
        attachments: activity.attachments,
      });
    }
    res.send(200, { id });
    return Promise.resolve();
  };
  server.post('/chat/connector/v3/conversations/:conversationId/activities', ...jsonBody(), post);
  server.post('/chat/connector/v3/conversations/:conversationId/activities/:replyToId', ...jsonBody(), post);

  // ... and cards updated in place.
  server.put(
    '/chat/connector/v3/conversations/:conversationId/activities/:activityId',
    ...jsonBody(),
    async (req: restify.Request, res: restify.Response) => {
      const params = req.params as { conversationId: string; activityId: string };
      const conversation = log.get(params.conversationId);
      if (!conversation?.ids.has(params.activityId)) {
        res.send(404, { error: { code: 'ActivityNotFound', message: 'No such activity in this conversation.' } });
        return Promise.resolve();
      }
      const activity = shown(req.body);
      log.append(params.conversationId, {
        kind: 'update',
        id: params.activityId,
        at: clock().toISOString(),
        text: activity.text,
        attachments: activity.attachments,
      });
      res.send(200, { id: params.activityId });
      return Promise.resolve();
    },
  );
}

/** Adds the browser chat and its channel endpoints to the server. Call only in development mode. */
export function registerDevChat(server: restify.Server, options: DevChatOptions): void {
  const files = assets(options.publicDir);
  const ctx = devChatContext(options);
  registerPage(server, files, ctx.logger);
  registerChannel(server, ctx);
  registerConnector(server, ctx);
  ctx.logger.info('dev-chat', { detail: 'Development mode: a browser chat with the bot is served at / (src/dev/dev-chat.ts).' });
}
