/**
 * Runs the real bot (restify + botbuilder CloudAdapter) on a free loopback port and plays the
 * Teams channel: posts activities to /api/messages and catches the bot's replies with nock on the
 * activity's serviceUrl (the Bot Connector service, which cannot run here).
 */
import nock from 'nock';
import { createApplication, type Application, type ApplicationDeps } from '../../src/application';
import { createMemoryStore } from './fakes/memory-store';
import { parseConfig } from '../../src/config/config';
import { createMemoryLogger } from '../../src/logging/logger';

/** Where the bot thinks the Bot Connector is; nock answers for it, nothing listens there. */
export const serviceUrl = 'http://127.0.0.1:1/';

/** An activity the bot sent to the connector. */
export interface SentActivity {
  type: string;
  text?: string;
  attachments?: Array<{ contentType: string; content: any }>;
  [key: string]: unknown;
}

/** The outcome of posting one activity. */
export interface TurnResult {
  status: number;
  body: string;
  replies: SentActivity[];
}

let sequence = 0;

/** A running bot and a fake channel in front of it. */
export class BotHarness {
  readonly logger = createMemoryLogger('debug');
  private app!: Application;
  private port = 0;
  private readonly sent: SentActivity[] = [];
  /** Cards the bot replaced in place. */
  readonly updates: Array<{ activityId: string; activity: SentActivity }> = [];

  async start(
    env: Record<string, string> = {},
    clock: () => Date = () => new Date(0),
    parts: Partial<Pick<ApplicationDeps, 'pacs' | 'store' | 'liveness' | 'leaseMs' | 'perConversationPerSecond'>> = {},
  ): Promise<this> {
    const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', ...env });
    // The default store keeps the test's time, as an embedded database keeps its host's.
    this.app = await createApplication(config, {
      logger: this.logger,
      clock,
      pollIntervalMs: 0,
      ...parts,
      store: parts.store ?? createMemoryStore({ clock }),
    });
    this.port = await this.app.listen();
    if (!nock.isActive()) nock.activate();
    nock.disableNetConnect();
    // Real loopback traffic (the bot itself, real Orthanc servers) passes; the connector is nock's.
    const connector = new URL(serviceUrl).host;
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1:') && host !== connector);
    nock(serviceUrl.replace(/\/$/, ''))
      .persist()
      .post(/\/v3\/conversations\/.+\/activities(\/.*)?$/)
      .reply(200, (_uri, body) => {
        this.sent.push(body as SentActivity);
        return { id: `reply-${this.sent.length}` };
      });
    // Card updates in place: PUT /v3/conversations/{id}/activities/{activityId}.
    nock(serviceUrl.replace(/\/$/, ''))
      .persist()
      .put(/\/v3\/conversations\/.+\/activities\/.+$/)
      .reply(200, (uri, body) => {
        this.updates.push({ activityId: decodeURIComponent(uri.split('/').pop() ?? ''), activity: body as SentActivity });
        return { id: 'updated' };
      });
    return this;
  }

  /** The running application (its store, PACS, idle and poll hooks). */
  get application(): Application {
    return this.app;
  }

  /** Every activity the bot has sent to the connector so far. */
  get sentActivities(): readonly SentActivity[] {
    return this.sent;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Posts a raw body to /api/messages. */
  async post(body: string, contentType = 'application/json'): Promise<TurnResult> {
    const before = this.sent.length;
    const res = await fetch(`${this.url}/api/messages`, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, body: await res.text(), replies: this.sent.slice(before) };
  }

  /** Posts an activity as Teams would, filling in the usual fields. */
  async send(activity: Record<string, unknown>, timestamp: Date): Promise<TurnResult> {
    sequence += 1;
    const full = {
      type: 'message',
      id: `activity-${sequence}`,
      timestamp: timestamp.toISOString(),
      channelId: 'msteams',
      serviceUrl,
      from: { id: '29:user-1', name: 'Test Clinician', aadObjectId: '00000000-0000-0000-0000-000000000001' },
      recipient: { id: '28:bot', name: 'Image Sharing' },
      conversation: { id: 'a:personal-chat', conversationType: 'personal', tenantId: 'tenant-1' },
      ...activity,
    };
    return this.post(JSON.stringify(full));
  }

  /** A text message. */
  say(text: string, timestamp: Date, extra: Record<string, unknown> = {}): Promise<TurnResult> {
    return this.send({ text, ...extra }, timestamp);
  }

  /** A card button press: an Action.Submit arrives as a message whose value is the button's data. */
  press(data: unknown, timestamp: Date): Promise<TurnResult> {
    return this.send({ value: data }, timestamp);
  }

  async stop(): Promise<void> {
    await this.app?.close();
    nock.cleanAll();
    nock.enableNetConnect();
    // Unpatch http so later test files in the same worker start clean.
    nock.restore();
  }
}

/** Every Adaptive Card in a list of replies. */
export function cardsOf(replies: SentActivity[]): any[] {
  return replies.flatMap((r) =>
    (r.attachments ?? []).filter((a) => a.contentType === 'application/vnd.microsoft.card.adaptive').map((a) => a.content),
  );
}

/** Every Action.Submit / Action.OpenUrl in a card, wherever it sits. */
export function actionsOf(card: unknown): Array<{ type: string; title: string; data?: unknown; url?: string }> {
  const found: Array<{ type: string; title: string; data?: unknown; url?: string }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      if (typeof n.type === 'string' && n.type.startsWith('Action.')) found.push(n as never);
      Object.values(n).forEach(walk);
    }
  };
  walk(card);
  return found;
}

/** All the text a person would read on a card (TextBlocks, facts, button titles). */
export function textOf(card: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      for (const key of ['text', 'title', 'value', 'url']) if (typeof n[key] === 'string') parts.push(n[key]);
      Object.entries(n).forEach(([k, v]) => k !== 'data' && walk(v));
    }
  };
  walk(card);
  return parts.join('\n');
}
