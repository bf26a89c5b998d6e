/**
 * The contract every NotifierPort adapter satisfies (Teams, the test fake): the same cases run
 * against each, through a fixture that plays the channel behind the notifier.
 */
import type { Attachment, ConversationReference } from 'botbuilder';
import type { NotifierPort, Reply } from '../../src/ports/notifier-port';

/** What an adapter's test file hands the contract. */
export interface NotifierContractFixture {
  readonly notifier: NotifierPort;
  /** A conversation the channel knows. */
  readonly reference: Partial<ConversationReference>;
  /** Requests the notifier makes for one call before handing a transient failure back as 'retry' (at least 2). */
  readonly maxAttempts: number;
  /** The channel's next `count` requests fail: transiently (busy, e.g. 503) or permanently (e.g. 403 blocked). */
  failNext(count: number, kind: 'transient' | 'permanent'): void;
  /** Requests that reached the channel so far, failed ones included. */
  requests(): number;
  /** What the channel shows now for a message id (after any updates); undefined when it has no such message. */
  shown(activityId: string): Reply | undefined;
  /** The activity a message answers (null: a new message); undefined when the channel has no such message. */
  answered(activityId: string): string | null | undefined;
  /** Typing indicators the channel has seen. */
  typings(): number;
  /** Undoes the fixture's set-up (network interception and the like). */
  close(): Promise<void>;
}

/** A small Adaptive Card, as the status card would be. */
export const statusCard: Attachment = {
  contentType: 'application/vnd.microsoft.card.adaptive',
  content: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Retrieving 2 studies' }] },
};

/** Runs the NotifierPort contract against the adapter `makeFixture` builds (a fresh one per case). */
export function notifierContract(name: string, makeFixture: () => Promise<NotifierContractFixture>): void {
  describe(`NotifierPort contract: ${name}`, () => {
    let fixture: NotifierContractFixture;

    beforeEach(async () => {
      fixture = await makeFixture();
    });
    afterEach(async () => {
      await fixture.close();
    });

    it('send posts a new message and returns its id', async () => {
      const outcome = await fixture.notifier.send(fixture.reference, { text: 'Your studies are ready.' });
      expect(outcome).toEqual({ kind: 'sent', activityId: expect.any(String) });
      const id = (outcome as { activityId: string }).activityId;
      expect(id).not.toBe('');
      expect(fixture.shown(id)?.text).toBe('Your studies are ready.');
      expect(fixture.requests()).toBe(1);
    });

    it('each send is a message of its own', async () => {
      const first = await fixture.notifier.send(fixture.reference, { text: 'one' });
      const second = await fixture.notifier.send(fixture.reference, { text: 'two' });
      expect(first.kind).toBe('sent');
      expect(second.kind).toBe('sent');
      const [a, b] = [first, second].map((o) => (o as { activityId: string }).activityId);
      expect(a).not.toBe(b);
      expect(fixture.shown(a!)?.text).toBe('one');
      expect(fixture.shown(b!)?.text).toBe('two');
    });

    it('reply answers the activity it names, as a message of its own; send answers none', async () => {
      const sent = await fixture.notifier.send(fixture.reference, { text: 'Searching...' });
      const replied = await fixture.notifier.reply(fixture.reference, 'user-activity-7', { text: 'Here is the menu.' });
      expect(replied).toEqual({ kind: 'sent', activityId: expect.any(String) });
      const [s, r] = [sent, replied].map((o) => (o as { activityId: string }).activityId);
      expect(r).not.toBe(s);
      expect(fixture.shown(r!)?.text).toBe('Here is the menu.');
      expect(fixture.answered(r!)).toBe('user-activity-7');
      expect(fixture.answered(s!)).toBeNull();
      expect(fixture.requests()).toBe(2);
    });

    it('a reply that names no activity is refused without a request', async () => {
      expect(await fixture.notifier.reply(fixture.reference, '', { text: 'x' })).toEqual({
        kind: 'permanent',
        reason: 'invalid-reference',
      });
      expect(fixture.requests()).toBe(0);
    });

    it('reply retries transient failures and does not retry permanent ones', async () => {
      fixture.failNext(fixture.maxAttempts - 1, 'transient');
      expect((await fixture.notifier.reply(fixture.reference, 'user-activity-8', { text: 'one' })).kind).toBe('sent');
      expect(fixture.requests()).toBe(fixture.maxAttempts);
      fixture.failNext(1, 'permanent');
      expect(await fixture.notifier.reply(fixture.reference, 'user-activity-9', { text: 'two' })).toEqual({
        kind: 'permanent',
        reason: expect.any(String),
      });
      expect(fixture.requests()).toBe(fixture.maxAttempts + 1);
    });

    it('asks the channel for a feed alert only when the message says so', async () => {
      const alerted = await fixture.notifier.send(fixture.reference, { text: 'Your studies are ready.', alert: true });
      const plain = await fixture.notifier.send(fixture.reference, { text: 'Searching...' });
      expect(fixture.shown((alerted as { activityId: string }).activityId)?.alert).toBe(true);
      expect(fixture.shown((plain as { activityId: string }).activityId)?.alert).toBeFalsy();
    });

    it('shows the typing indicator without posting a message, and refuses a reference with no conversation', async () => {
      expect(await fixture.notifier.typing(fixture.reference)).toEqual({ kind: 'sent', activityId: null });
      expect(fixture.typings()).toBe(1);
      expect(fixture.requests()).toBe(1);
      expect(await fixture.notifier.typing({ ...fixture.reference, conversation: undefined })).toEqual({
        kind: 'permanent',
        reason: 'invalid-reference',
      });
      expect(fixture.typings()).toBe(1);
    });

    it('send carries a card', async () => {
      const outcome = await fixture.notifier.send(fixture.reference, { card: statusCard });
      const shown = fixture.shown((outcome as { activityId: string }).activityId);
      expect(shown?.card).toEqual(statusCard);
    });

    it('update replaces the message in place', async () => {
      const sent = await fixture.notifier.send(fixture.reference, { card: statusCard, text: 'Retrieving' });
      const id = (sent as { activityId: string }).activityId;
      const done = { text: 'Stored on UH Bristol PACS' };
      const outcome = await fixture.notifier.update(fixture.reference, id, done);
      expect(outcome).toEqual({ kind: 'sent', activityId: id });
      expect(fixture.shown(id)?.text).toBe(done.text);
      expect(fixture.shown(id)?.card).toBeUndefined();
      expect(fixture.requests()).toBe(2);
    });

    it('update of a message the conversation does not have is permanent', async () => {
      const outcome = await fixture.notifier.update(fixture.reference, 'no-such-activity', { text: 'x' });
      expect(outcome).toEqual({ kind: 'permanent', reason: expect.any(String) });
      expect(fixture.requests()).toBe(1);
    });

    it('a permanent failure is not retried', async () => {
      fixture.failNext(1, 'permanent');
      const outcome = await fixture.notifier.send(fixture.reference, { text: 'Your studies are ready.' });
      expect(outcome).toEqual({ kind: 'permanent', reason: expect.any(String) });
      expect(fixture.requests()).toBe(1);
      // The failure was the channel's answer to that one request, not a broken notifier.
      expect((await fixture.notifier.send(fixture.reference, { text: 'again' })).kind).toBe('sent');
      expect(fixture.requests()).toBe(2);
    });

    it('transient failures are retried within the call', async () => {
      fixture.failNext(fixture.maxAttempts - 1, 'transient');
      const outcome = await fixture.notifier.send(fixture.reference, { text: 'Your studies are ready.' });
      expect(outcome.kind).toBe('sent');
      expect(fixture.requests()).toBe(fixture.maxAttempts);
      expect(fixture.shown((outcome as { activityId: string }).activityId)?.text).toBe('Your studies are ready.');
    });

    it('transient failures come back as retry once the attempts run out', async () => {
      fixture.failNext(fixture.maxAttempts, 'transient');
      const outcome = await fixture.notifier.send(fixture.reference, { text: 'Your studies are ready.' });
      expect(outcome).toEqual({ kind: 'retry', afterMs: expect.any(Number), reason: expect.any(String) });
      expect((outcome as { afterMs: number }).afterMs).toBeGreaterThanOrEqual(0);
      expect(fixture.requests()).toBe(fixture.maxAttempts);
    });

    it('asks the guard before every attempt, and sends nothing once it says no', async () => {
      let asked = 0;
      const allowTwice = (): Promise<boolean> => Promise.resolve(++asked <= 2);
      fixture.failNext(fixture.maxAttempts, 'transient');
      // The first attempt fails, the guard allows the second (which fails too), then refuses the third.
      const outcome = await fixture.notifier.send(fixture.reference, { text: 'Your studies are ready.' }, allowTwice);
      expect(outcome).toEqual({ kind: 'withdrawn', reason: 'guard-refused' });
      expect(asked).toBe(3);
      expect(fixture.requests()).toBe(2);
    });

    it('withdraws without a request when the guard refuses or fails at once', async () => {
      expect(await fixture.notifier.send(fixture.reference, { text: 'x' }, () => Promise.resolve(false))).toEqual({
        kind: 'withdrawn',
        reason: 'guard-refused',
      });
      expect(await fixture.notifier.send(fixture.reference, { text: 'x' }, () => Promise.reject(new Error('database gone')))).toEqual({
        kind: 'withdrawn',
        reason: 'guard-failed',
      });
      expect(fixture.requests()).toBe(0);
      const allowed = await fixture.notifier.send(fixture.reference, { text: 'Your studies are ready.' }, () => Promise.resolve(true));
      expect(allowed.kind).toBe('sent');
      expect(fixture.requests()).toBe(1);
    });

    it('update retries transient failures too', async () => {
      const sent = await fixture.notifier.send(fixture.reference, { text: 'Retrieving' });
      const id = (sent as { activityId: string }).activityId;
      fixture.failNext(1, 'transient');
      expect(await fixture.notifier.update(fixture.reference, id, { text: 'Stored' })).toEqual({ kind: 'sent', activityId: id });
      expect(fixture.shown(id)?.text).toBe('Stored');
    });

    it('a reference without a conversation or an empty message is refused without a request', async () => {
      const noConversation = { ...fixture.reference, conversation: undefined };
      expect(await fixture.notifier.send(noConversation, { text: 'x' })).toEqual({ kind: 'permanent', reason: expect.any(String) });
      expect(await fixture.notifier.send(fixture.reference, {})).toEqual({ kind: 'permanent', reason: expect.any(String) });
      expect(await fixture.notifier.update(fixture.reference, '', { text: 'x' })).toEqual({
        kind: 'permanent',
        reason: expect.any(String),
      });
      expect(fixture.requests()).toBe(0);
    });
  });
}
