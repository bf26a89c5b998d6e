/**
 * Thin transport: turns Teams activities into `Incoming` inputs and callers for the conversation,
 * and posts what its turns say through the notifier port: replies now, a card updated in place, and
 * the replies of slow work when it ends. No rules and no words live here.
 */
import { ActivityHandler, TeamsInfo, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { converse, type ConversationDeps, type Incoming } from '../conversation/conversation';
import type { RetrievalConversationDeps, TurnCaller } from '../conversation/retrieval-context';
import { turnFailedWords, type FollowUp, type Progress } from '../conversation/turn';
import type { Logger } from '../logging/logger';
import type { NotifierPort, Reply, SendOutcome } from '../ports/notifier-port';
import type { TurnClaim } from '../ports/store-port';
import { withDeadline } from '../support/deadline';
import { AppError, reasonOf } from '../domain/app-error';

/** The instant of an activity: its own timestamp, else the clock (the channel always sends one). */
export function activityInstant(activity: Partial<Activity>, clock: () => Date): Date {
  const raw = activity.timestamp as Date | string | undefined;
  const instant = raw instanceof Date ? raw : typeof raw === 'string' ? new Date(raw) : undefined;
  return instant && !Number.isNaN(instant.getTime()) ? instant : clock();
}

/** The message's text without the bot's @mention (group chats and channels) or stray <at> tags. */
export function messageText(activity: Partial<Activity>): string {
  const withoutMention = activity.recipient ? TurnContext.removeRecipientMention(activity) : activity.text;
  return (withoutMention ?? activity.text ?? '').replace(/<at>[^<]*<\/at>/gi, ' ').trim();
}

/** What a message activity carries: a card button's data, or text. */
export function incomingMessage(activity: Partial<Activity>): Incoming {
  const value: unknown = activity.value;
  if (value !== undefined && value !== null) return { kind: 'submit', value };
  return { kind: 'text', text: messageText(activity) };
}

/** The kind of conversation: Teams says; the Emulator (no type, not a group) is a 1:1 chat. */
function conversationType(activity: Partial<Activity>): string | null {
  const conversation = activity.conversation;
  if (conversation?.conversationType) return conversation.conversationType;
  if (conversation?.isGroup) return 'groupChat';
  return activity.channelId === 'msteams' ? null : 'personal';
}

/** Who sent the activity and from where. */
export function callerOf(activity: Partial<Activity>, upn: string | null): TurnCaller {
  const channelData = activity.channelData as { tenant?: { id?: string } } | undefined;
  const tenantId = activity.conversation?.tenantId ?? channelData?.tenant?.id ?? null;
  const entraObjectId = activity.from?.aadObjectId ?? null;
  return {
    tenantId,
    entraObjectId,
    upn,
    pressedActivityId: activity.replyToId ?? null,
    conversationType: conversationType(activity),
    requester: {
      teamsUserId: activity.from?.id ?? 'unknown',
      entraObjectId,
      displayName: activity.from?.name ?? '',
      tenantId,
      conversationId: activity.conversation?.id ?? 'unknown',
    },
  };
}

/** A turn's reply could not be posted: the turn fails, so that Teams' re-delivery of it is handled afresh. */
export class ReplyError extends AppError<Exclude<SendOutcome['kind'], 'sent'>> {
  override readonly name = 'ReplyError';
}

/** How long an inbound activity id is remembered (Teams re-delivers within seconds to minutes). */
const activityMemoryMs = 24 * 60 * 60 * 1000;

/**
 * How long a turn's claim on its activity holds before another instance may take it over. Teams
 * waits 15 s for an answer before it re-delivers, so a re-delivery finds the claim run out unless
 * the first turn is still within its time; a claim whose owner has fallen silent is taken over.
 */
export const activityClaimMs = 10_000;

/** Who this process is, for claims on inbound activities, and how to tell that another owner is gone. */
export interface ActivityOwnership {
  /** Unique per process (an instance id). */
  readonly owner: string;
  /** True when `owner` is known to be gone (its heartbeat in the database has fallen silent). */
  readonly isGone: (owner: string) => Promise<boolean>;
  /**
   * How long a re-delivery held by an owner that still looks alive waits for that owner to finish or
   * fall silent (a process killed a moment ago still looks alive until its silence is long enough).
   * Shorter than Teams' 15 s wait for an answer.
   */
  readonly waitMs: number;
}

/** How often a waiting re-delivery looks at its claim again. */
const claimRecheckMs = 100;

/** A promise and the function that resolves it. */
function settledOnce<T>(): { readonly promise: Promise<T>; readonly resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An unchanged conversation reference is written again after this long (its updatedAt stays recent). */
const referenceRefreshMs = 60 * 60 * 1000;
/** Users whose last saved reference is remembered (the oldest is forgotten first; forgetting costs one write). */
const rememberedReferences = 10_000;

/** The Teams bot: the image-sharing conversation behind Bot Framework activity handlers. */
export class TeamsBot extends ActivityHandler {
  private readonly pending = new Set<Promise<void>>();
  /** The reference last saved per user and chat, so an unchanged one is not written on every message. */
  private readonly saved = new Map<string, { readonly json: string; readonly atMs: number }>();

  constructor(
    private readonly deps: ConversationDeps,
    private readonly retrieval: RetrievalConversationDeps | null,
    private readonly notifier: NotifierPort,
    private readonly logger: Logger,
    private readonly clock: () => Date,
    private readonly ownership: ActivityOwnership = { owner: `turns:${process.pid}`, isGone: () => Promise.resolve(false), waitMs: 0 },
    private readonly options: { readonly connectorTimeoutMs: number } = { connectorTimeoutMs: 15_000 },
  ) {
    super();
    this.onMessage(async (context, next) => {
      await this.reply(context, incomingMessage(context.activity));
      await next();
    });
    this.onInstallationUpdateAdd(async (context, next) => {
      await this.reply(context, { kind: 'installed' });
      await next();
    });
  }

  /** Runs the turn; a turn that fails is logged and apologised for here, through the notifier like every message. */
  override async run(context: TurnContext): Promise<void> {
    try {
      await super.run(context);
    } catch (error) {
      await this.turnFailed(context, error);
    }
  }

  /** Logs a failed turn (its error's class, reason and place: never its message, which may quote input) and says sorry. */
  private async turnFailed(context: TurnContext, error: unknown): Promise<void> {
    const err = error instanceof Error ? error : new Error('non-error thrown');
    this.logger.error('turn-error', {
      error: err.name,
      reason: reasonOf(err),
      at: err.stack?.split('\n')[1]?.trim() ?? null,
      activityType: context.activity.type,
    });
    const reference = TurnContext.getConversationReference(context.activity);
    const outcome = await this.post(this.inTurn(context), reference, context.activity.id, { text: turnFailedWords });
    if (outcome.kind !== 'sent') this.logger.error('turn-error-reply-failed', { outcome: outcome.kind });
  }

  /** Posts a reply to the activity `replyToId` (a new message when the activity has no id). */
  private post(
    notifier: NotifierPort,
    reference: Partial<ConversationReference>,
    replyToId: string | undefined,
    reply: Reply,
  ): Promise<SendOutcome> {
    return replyToId ? notifier.reply(reference, replyToId, reply) : notifier.send(reference, reply);
  }

  /** The notifier for what a turn posts while it runs: through the turn's own connection when the adapter can. */
  private inTurn(context: TurnContext): NotifierPort {
    return this.notifier.forTurn?.(context) ?? this.notifier;
  }

  /** Resolves when all slow work started so far has been posted (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Keeps where to reach this user in this chat, for proactive messages after any restart. Written
   * when it changes (or hourly, to keep its date fresh), not on every message: it rarely changes.
   */
  private async saveReference(context: TurnContext, caller: TurnCaller, instant: Date): Promise<void> {
    if (!this.retrieval || !context.activity.serviceUrl) return;
    const reference = TurnContext.getConversationReference(context.activity);
    // The triggering message's id differs every time and a notification is a new message, not a reply.
    delete reference.activityId;
    const json = JSON.stringify(reference);
    const key = `${caller.requester.teamsUserId}\n${caller.requester.conversationId}`;
    const last = this.saved.get(key);
    if (last && last.json === json && instant.getTime() - last.atMs < referenceRefreshMs && instant.getTime() >= last.atMs) return;
    try {
      await this.retrieval.store.saveReference({
        teamsUserId: caller.requester.teamsUserId,
        entraObjectId: caller.requester.entraObjectId,
        conversationId: caller.requester.conversationId,
        reference: json,
        updatedAt: instant.toISOString(),
      });
      this.saved.delete(key);
      if (this.saved.size >= rememberedReferences) this.saved.delete(this.saved.keys().next().value as string);
      this.saved.set(key, { json, atMs: instant.getTime() });
    } catch (error) {
      // Answering the clinician matters more than refreshing the reference; the last one saved still works.
      this.logger.warn('reference-save-failed', { reason: reasonOf(error) });
    }
  }

  /** The user's UPN, only when an allow-list names domains (it costs a call to Teams). */
  private async upnOf(context: TurnContext): Promise<string | null> {
    const wantsDomains = this.retrieval?.access.retrievalAllowedUsers.some((entry) => entry.startsWith('@')) ?? false;
    if (!wantsDomains || context.activity.channelId !== 'msteams' || !context.activity.from?.id) return null;
    try {
      const member = await withDeadline(
        TeamsInfo.getMember(context, context.activity.from.id),
        this.options.connectorTimeoutMs,
        'the Teams member look-up',
      );
      return member.userPrincipalName ?? null;
    } catch {
      this.logger.warn('upn-lookup-failed', {});
      return null;
    }
  }

  /**
   * Claims this activity for this turn. Teams re-delivers a turn it thinks timed out, with the same
   * id: a re-delivery is ignored when the first delivery finished, or is still being handled by a live
   * owner; a claim left by a gone owner (or run out) is taken over and the turn handled afresh. A
   * claim held by an owner that still looks alive is watched for a while (ownership.waitMs): it
   * finishes, or its owner falls silent and the turn is taken over. Null: handle it without a claim
   * (no store, no id, or the store failing).
   */
  private async claim(context: TurnContext, instant: Date): Promise<TurnClaim | null | 'ignore'> {
    const { id, channelId, conversation } = context.activity;
    if (!this.retrieval || !id) return null;
    const key = JSON.stringify([channelId ?? '', conversation?.id ?? '', id]);
    const { owner } = this.ownership;
    const request = { key, owner, at: instant.toISOString(), claimMs: activityClaimMs, keepMs: activityMemoryMs };
    try {
      const { store } = this.retrieval;
      let found = await store.claimActivity(request);
      // Counted in steps, not read from a clock: the wait is real time whatever clock the turn runs on.
      for (let step = 0; found.outcome === 'held' && found.owner !== owner; step += 1) {
        if (await this.ownership.isGone(found.owner)) {
          found = await store.claimActivity({ ...request, takeOverFrom: found.owner });
          break;
        }
        if (step * claimRecheckMs >= this.ownership.waitMs) break;
        await pause(claimRecheckMs);
        found = await store.claimActivity(request);
      }
      switch (found.outcome) {
        case 'claimed':
          if (found.previousOwner !== null) this.logger.info('activity-taken-over', { reason: 'earlier delivery unfinished' });
          return { key, owner };
        case 'done':
          this.logger.info('duplicate-activity', { state: 'done' });
          return 'ignore';
        case 'held':
          this.logger.info('duplicate-activity', { state: 'in progress' });
          return 'ignore';
      }
    } catch (error) {
      // Without the database a re-delivery cannot be told apart; answering twice beats not answering.
      this.logger.warn('activity-record-failed', { reason: reasonOf(error) });
      return null;
    }
  }

  private async reply(context: TurnContext, input: Incoming): Promise<void> {
    const instant = activityInstant(context.activity, this.clock);
    const claim = await this.claim(context, instant);
    if (claim === 'ignore') return;
    const store = this.retrieval?.store;
    try {
      await this.answer(context, input, instant, claim);
    } catch (error) {
      // The turn failed: let Teams' re-delivery of it be handled afresh.
      if (claim && store) await store.releaseActivity(claim.key, claim.owner).catch(() => undefined);
      throw error;
    }
    if (claim && store) {
      // Done once answered (a confirmation marks it done itself, with what it records).
      await store.finishActivity(claim.key, claim.owner).catch((error: unknown) => {
        // The claim runs out by itself; a re-delivery after that is handled again.
        this.logger.warn('activity-finish-failed', { reason: reasonOf(error) });
      });
    }
  }

  private async answer(context: TurnContext, input: Incoming, instant: Date, claim: TurnClaim | null): Promise<void> {
    const caller = { ...callerOf(context.activity, await this.upnOf(context)), turnClaim: claim };
    await this.saveReference(context, caller, instant);
    const turn = await converse(input, caller, this.deps, this.retrieval, instant);
    this.logger.info('turn', {
      input: input.kind,
      conversationType: caller.conversationType,
      replies: turn.replies.length,
      later: turn.followUp !== undefined,
      update: turn.updatePressedCard !== undefined,
    });
    const reference = TurnContext.getConversationReference(context.activity);
    const { promise: posted, resolve: turnPosted } = settledOnce<boolean>();
    // Updates of the progress message, one after another; the follow-up's replies wait for the last.
    const progress = { done: Promise.resolve() };
    // Taken up at once (the work is already under way); its replies wait for the turn's own.
    if (turn.followUp) this.postWhenDone(reference, turn.followUp, posted, progress);
    // What the turn posts goes through the turn's own connection; what comes after it, through the port.
    const now = this.inTurn(context);
    try {
      const pressed = context.activity.replyToId;
      if (turn.updatePressedCard && pressed) {
        const updated = await now.update(reference, pressed, turn.updatePressedCard);
        // The replies below still say what happened; the old card's buttons are re-checked anyway.
        if (updated.kind !== 'sent') this.logger.warn('card-update-failed', { outcome: updated.kind });
      }
      const ids: Array<string | null> = [];
      for (const reply of turn.replies) {
        const outcome = await this.post(now, reference, context.activity.id, reply);
        if (outcome.kind !== 'sent') throw new ReplyError(outcome.kind, `a reply could not be posted: ${outcome.reason}`);
        ids.push(outcome.activityId);
      }
      if (turn.typing) await now.typing(reference);
      const progressId = turn.progress ? ids[turn.progress.replyIndex] : null;
      if (turn.progress && progressId) this.followProgress(reference, progressId, turn.progress, progress);
      turnPosted(true);
    } catch (error) {
      turnPosted(false);
      throw error;
    }
  }

  /** Replaces the progress message in place with each new version, one update at a time, the latest winning. */
  private followProgress(
    reference: Partial<ConversationReference>,
    activityId: string,
    feed: Progress,
    progress: { done: Promise<void> },
  ): void {
    let next: Reply | null = null;
    feed.subscribe((reply) => {
      next = reply;
      progress.done = progress.done.then(async () => {
        if (next === null) return;
        const version = next;
        next = null;
        const outcome = await this.notifier.update(reference, activityId, version);
        if (outcome.kind !== 'sent') this.logger.warn('progress-update-failed', { outcome: outcome.kind });
      });
    });
  }

  /**
   * Posts the replies of slow work into the same chat when it ends, after the turn's own; not when the
   * turn's replies failed (the turn is then handled afresh if Teams delivers it again, as if never answered).
   */
  private postWhenDone(
    reference: Partial<ConversationReference>,
    followUp: FollowUp,
    turnPosted: Promise<boolean>,
    progress: { readonly done: Promise<void> },
  ): void {
    const work = (async () => {
      const { replies, failure } = await followUp;
      if (failure !== null) {
        this.logger.error('later-failed', { error: failure instanceof Error ? failure.name : 'unknown', reason: reasonOf(failure) });
      }
      if (!(await turnPosted)) return;
      // The last "n of m answered" lands before the result it announces.
      await progress.done;
      for (const reply of replies) {
        const outcome = await this.notifier.send(reference, reply);
        if (outcome.kind !== 'sent') this.logger.error('proactive-send-failed', { outcome: outcome.kind, reason: outcome.reason });
      }
    })();
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}
