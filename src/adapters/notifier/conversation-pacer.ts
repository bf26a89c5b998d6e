/**
 * Pacing per conversation: Teams allows a bot a few messages a second into one conversation, so
 * sends into the same chat queue up in order while other chats never wait for them.
 */

/** Holds sends back so that no conversation gets more than a set number of messages in any second. */
export interface ConversationPacer {
  /** Resolves when a message may be posted into the conversation; the ms it waited. */
  acquire(conversationId: string): Promise<number>;
}

/**
 * A sliding-window pacer keyed by conversation id. Each caller reserves its slot before waiting, so
 * concurrent sends to one conversation queue up in order and other conversations never wait for them.
 */
export function createConversationPacer(options: {
  readonly perSecond: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}): ConversationPacer {
  const windowMs = 1000;
  const { perSecond, now, sleep } = options;
  /** Reserved send instants per conversation, ascending; only those still inside a window are kept. */
  const reserved = new Map<string, number[]>();
  let lastSweep = Number.NEGATIVE_INFINITY;

  /** The conversation's slots still inside the window at `at` (the older ones dropped). */
  const live = (slots: readonly number[], at: number): number[] => {
    let first = 0;
    while (first < slots.length && slots[first]! <= at - windowMs) first += 1;
    return first === 0 ? [...slots] : slots.slice(first);
  };

  // Other chats are swept at most once a window: a sweep on every send would cost every send a pass
  // over every chat served in the last second (hundreds, under load).
  const sweep = (at: number): void => {
    if (at - lastSweep < windowMs) return;
    lastSweep = at;
    for (const [id, slots] of reserved) {
      const kept = live(slots, at);
      if (kept.length === 0) reserved.delete(id);
      else reserved.set(id, kept);
    }
  };

  return {
    async acquire(conversationId) {
      const at = now();
      sweep(at);
      const slots = live(reserved.get(conversationId) ?? [], at);
      // The slot `perSecond` back from the end must be a full window before this one.
      const earlier = slots.length >= perSecond ? slots[slots.length - perSecond] : undefined;
      const slot = earlier === undefined ? at : Math.max(at, earlier + windowMs);
      slots.push(slot);
      reserved.set(conversationId, slots);
      const waitMs = slot - at;
      if (waitMs > 0) await sleep(waitMs);
      return waitMs;
    },
  };
}
