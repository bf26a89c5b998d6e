/**
 * What one turn of the conversation produces: replies to post now, the pressed card to replace in
 * place, and slow work already under way whose replies are posted when it ends. The transport posts
 * all of them through the notifier port; nothing here knows how.
 */
import type { Reply } from '../ports/notifier-port';

export type { Reply };

/** What slow work ended with: its replies, and the error it failed with (for the log; null when it did not fail). */
export interface FollowUpResult {
  readonly replies: readonly Reply[];
  readonly failure: unknown;
}

/** Slow work started by a turn (a search, the start of retrievals): resolves when it ends, and never rejects. */
export type FollowUp = Promise<FollowUpResult>;

/** New versions of one of the turn's replies (the "Searching..." message), made while slow work runs. */
export interface Progress {
  /** Which of the turn's replies the versions replace in place. */
  readonly replyIndex: number;
  /** Calls `listener` with each new version from now on, after the latest one made so far (if any). */
  subscribe(listener: (reply: Reply) => void): void;
}

/** A progress feed and the function that publishes a new version. */
export function createProgress(replyIndex: number): Progress & { publish(reply: Reply): void } {
  let latest: Reply | null = null;
  let listener: ((reply: Reply) => void) | null = null;
  return {
    replyIndex,
    subscribe(next) {
      listener = next;
      if (latest) next(latest);
    },
    publish(reply) {
      latest = reply;
      listener?.(reply);
    },
  };
}

/** What one turn does. */
export interface Turn {
  /** Posted now, in order, as replies to the message. */
  readonly replies: readonly Reply[];
  /** Replaces the card whose button was pressed (so it cannot be pressed twice). */
  readonly updatePressedCard?: Reply;
  /** Slow work under way; its replies are posted after the turn's, when it ends. */
  readonly followUp?: FollowUp;
  /** Show that the bot is working (Teams' typing indicator) once the replies are posted. */
  readonly typing?: boolean;
  /** One reply replaced in place as the slow work goes on; every version lands before the follow-up's replies. */
  readonly progress?: Progress;
}

/** Said when a turn fails on the bot's side (the turn is then handled afresh if Teams delivers it again). */
export const turnFailedWords = 'Sorry, something went wrong on my side. Please try again, or type "help" for the menu.';

/** Said when slow work fails after the turn has answered. */
export const followUpFailedWords =
  'Sorry, something went wrong on my side while working on that. Please try again; if it keeps happening, tell the PACS team.';

/**
 * Starts slow work now and hands back its follow-up. A failure becomes the apology (and the error,
 * for the transport's log) rather than a rejection nobody may be waiting for yet.
 */
export function followUp(work: () => Promise<readonly Reply[]>): FollowUp {
  return work().then(
    (replies) => ({ replies, failure: null }),
    (failure: unknown) => ({ replies: [{ text: followUpFailedWords }], failure }),
  );
}

/** A turn that only replies. */
export function repliesOnly(...replies: Reply[]): Turn {
  return { replies };
}
