/**
 * Thin transport: turns Teams activities into `Incoming` inputs for the conversation and its
 * replies into messages. No rules live here.
 */
import { ActivityHandler, MessageFactory, TurnContext, type Activity } from 'botbuilder';
import { respond, type ConversationDeps, type Incoming, type Reply } from '../conversation/conversation';
import type { Logger } from '../logging/logger';

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

function toMessage(reply: Reply): Partial<Activity> {
  if (reply.card) return MessageFactory.attachment(reply.card, reply.text);
  return MessageFactory.text(reply.text ?? '');
}

/** The Teams bot: the image-sharing conversation behind Bot Framework activity handlers. */
export class TeamsBot extends ActivityHandler {
  constructor(
    private readonly deps: ConversationDeps,
    private readonly logger: Logger,
    private readonly clock: () => Date,
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

  private async reply(context: TurnContext, input: Incoming): Promise<void> {
    const replies = respond(input, this.deps, activityInstant(context.activity, this.clock));
    this.logger.info('turn', {
      input: input.kind,
      conversationType: context.activity.conversation?.conversationType ?? null,
      replies: replies.length,
    });
    await context.sendActivities(replies.map(toMessage));
  }
}
