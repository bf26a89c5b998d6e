/**
 * An in-memory notifier that keeps the NotifierPort contract: it records what was sent and what
 * each message now shows, and can be told to fail its next requests, transiently (retried up to
 * `maxAttempts` per call, like the Teams notifier) or permanently. Used by tests.
 */
import type { ConversationReference } from 'botbuilder';
import { askGuard, type AttemptGuard, type NotifierPort, type Reply, type SendOutcome } from '../../../src/ports/notifier-port';

/** A message the fake delivered, as first sent. */
export interface FakeSent {
  readonly conversationId: string;
  readonly activityId: string;
  readonly message: Reply;
  /** The activity this message answers (a turn's reply); null for a new message. */
  readonly replyToId: string | null;
}

/** An update the fake applied. */
export interface FakeUpdate {
  readonly conversationId: string;
  readonly activityId: string;
  readonly message: Reply;
}

/** A failure to answer requests with: a transient one (handed back as 'retry' once attempts run out) or a permanent one. */
export type FakeFailure = Exclude<SendOutcome, { readonly kind: 'sent' } | { readonly kind: 'withdrawn' }>;

/** How the fake behaves. */
export interface FakeNotifierOptions {
  /** Requests per call before a transient failure is handed back (default 1: each call is one request). */
  readonly maxAttempts?: number;
}

/** The fake notifier, with controls and records for tests. */
export class FakeNotifier implements NotifierPort {
  private readonly maxAttempts: number;
  private readonly failures: FakeFailure[] = [];
  private readonly shown = new Map<string, { readonly conversationId: string; message: Reply }>();
  private readonly sentLog: FakeSent[] = [];
  private readonly updateLog: FakeUpdate[] = [];
  private nextId = 1;
  private requestCount = 0;

  constructor(options: FakeNotifierOptions = {}) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 1);
  }

  /** The next `count` requests fail with `outcome`; with maxAttempts 1 that is the next `count` calls. */
  failNext(count: number, outcome: FakeFailure): void {
    for (let i = 0; i < count; i += 1) this.failures.push(outcome);
  }

  /** Requests that reached the (pretend) channel, failed ones included. */
  get requests(): number {
    return this.requestCount;
  }

  /** Every message delivered by send, in order. */
  get sent(): readonly FakeSent[] {
    return this.sentLog;
  }

  /** Every update applied, in order. */
  get updates(): readonly FakeUpdate[] {
    return this.updateLog;
  }

  /** What a delivered message shows now (after any updates); undefined for an unknown id. */
  message(activityId: string): Reply | undefined {
    return this.shown.get(activityId)?.message;
  }

  send(reference: Partial<ConversationReference>, message: Reply, guard?: AttemptGuard): Promise<SendOutcome> {
    return this.deliver(reference, message, (conversationId) => this.post(conversationId, message, null), guard);
  }

  reply(reference: Partial<ConversationReference>, replyToId: string, message: Reply): Promise<SendOutcome> {
    // As the Teams notifier: a reply must name the activity it answers.
    if (!replyToId) return Promise.resolve({ kind: 'permanent', reason: 'invalid-reference' });
    return this.deliver(reference, message, (conversationId) => this.post(conversationId, message, replyToId));
  }

  /** Typing indicators shown, by conversation id. */
  readonly typings = new Map<string, number>();

  typing(reference: Partial<ConversationReference>): Promise<SendOutcome> {
    // Through the same checks, failures and retries as every other request, as the Teams notifier does.
    return this.deliver(reference, null, (conversationId) => {
      this.typings.set(conversationId, (this.typings.get(conversationId) ?? 0) + 1);
      return { kind: 'sent', activityId: null };
    });
  }

  /** The activity a delivered message answers (null: a new message); undefined for an unknown id. */
  answered(activityId: string): string | null | undefined {
    return this.sentLog.find((s) => s.activityId === activityId)?.replyToId;
  }

  private post(conversationId: string, message: Reply, replyToId: string | null): SendOutcome {
    const activityId = `fake-activity-${this.nextId++}`;
    this.shown.set(activityId, { conversationId, message });
    this.sentLog.push({ conversationId, activityId, message, replyToId });
    return { kind: 'sent', activityId };
  }

  update(reference: Partial<ConversationReference>, activityId: string, message: Reply): Promise<SendOutcome> {
    if (!activityId) return Promise.resolve({ kind: 'permanent', reason: 'invalid-reference' });
    return this.deliver(reference, message, (conversationId) => {
      const existing = this.shown.get(activityId);
      // Teams answers 404 for an activity that is not in this conversation.
      if (!existing || existing.conversationId !== conversationId) return { kind: 'permanent', reason: 'not-found' };
      existing.message = message;
      this.updateLog.push({ conversationId, activityId, message });
      return { kind: 'sent', activityId };
    });
  }

  private async deliver(
    reference: Partial<ConversationReference>,
    message: Reply | null,
    succeed: (conversationId: string) => SendOutcome,
    guard?: AttemptGuard,
  ): Promise<SendOutcome> {
    const conversationId = reference.conversation?.id;
    if (!conversationId || !reference.serviceUrl) return { kind: 'permanent', reason: 'invalid-reference' };
    // A typing indicator (null) carries nothing; a message must carry text or a card.
    if (message !== null && !message.text && !message.card) return { kind: 'permanent', reason: 'empty-message' };
    for (let attempt = 1; ; attempt += 1) {
      // As the Teams notifier: the guard is asked before every attempt, and a failing guard withdraws.
      const withdrawn = await askGuard(guard);
      if (withdrawn) return { kind: 'withdrawn', reason: withdrawn };
      this.requestCount += 1;
      const failure = this.failures.shift();
      if (!failure) return succeed(conversationId);
      switch (failure.kind) {
        case 'permanent':
          return failure;
        case 'retry':
          if (attempt >= this.maxAttempts) return failure;
          break;
      }
    }
  }
}
