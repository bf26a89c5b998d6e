/**
 * The StorePort contract: what every store adapter (memory, SQLite, later PostgreSQL) must do,
 * run against each of them by store.contract.test.ts. Every instant is fixed; none is the clock.
 */
import type { StudySummary } from '../../src/ports/pacs-port';
import {
  StoreError,
  type AuditEvent,
  type NewRetrieval,
  type Notification,
  type NotificationOutcome,
  type Requester,
  type RetrievalState,
  type StoredReference,
  type StoreErrorReason,
  type StorePort,
} from '../../src/ports/store-port';

/** A clinician, as Teams describes them. */
export const alice: Requester = {
  teamsUserId: '29:alice',
  entraObjectId: '00000000-0000-0000-0000-00000000a11c',
  displayName: 'Dr Alice Example',
  tenantId: 'tenant-1',
  conversationId: 'a:conversation-alice',
};

/** A second clinician, in the Emulator (no Entra id, no tenant). */
export const bob: Requester = {
  teamsUserId: '29:bob',
  entraObjectId: null,
  displayName: 'Dr Bob Example',
  tenantId: null,
  conversationId: 'a:conversation-bob',
};

/** A study summary with everything filled in. */
export function study(uid: string, overrides: Partial<StudySummary> = {}): StudySummary {
  return { studyInstanceUid: uid, date: '2026-01-14', description: 'CT HEAD', modalities: ['CT'], instanceCount: 120, ...overrides };
}

/** A new retrieval of `uid` from Exeter, requested by Alice at 09:00 on 1 March 2026. */
export function newRetrieval(id: string, uid = '1.2.826.0.1.1', overrides: Partial<NewRetrieval> = {}): NewRetrieval {
  return {
    id,
    requester: alice,
    site: 'exeter',
    nhsNumber: '9434765919',
    study: study(uid),
    createdAt: '2026-03-01T09:00:00.000Z',
    keptUntil: '2026-03-31T09:00:00.000Z',
    cardActivityId: null,
    ...overrides,
  };
}

/** An audit event by Alice at `at`. */
export function auditEvent(at: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    at,
    action: 'patient-search',
    teamsUserId: alice.teamsUserId,
    entraObjectId: alice.entraObjectId,
    displayName: alice.displayName,
    nhsNumber: '9434765919',
    site: null,
    studies: [],
    outcome: 'found',
    ...overrides,
  };
}

/** Alice's conversation reference (the JSON a Bot Framework adapter would give), saved at `updatedAt`. */
export function storedReference(updatedAt = '2026-03-01T08:55:00.000Z', overrides: Partial<StoredReference> = {}): StoredReference {
  return {
    teamsUserId: alice.teamsUserId,
    entraObjectId: alice.entraObjectId,
    conversationId: alice.conversationId,
    reference: JSON.stringify({
      channelId: 'msteams',
      serviceUrl: 'https://smba.trafficmanager.net/uk/',
      conversation: { id: alice.conversationId, conversationType: 'personal', tenantId: alice.tenantId },
      user: { id: alice.teamsUserId, aadObjectId: alice.entraObjectId },
      bot: { id: '28:bot' },
    }),
    updatedAt,
    ...overrides,
  };
}

/**
 * Records retrieval `id` of study `uid` and ends it: 'failed' straight from requested at `at`, or
 * 'stored' via retrieving (a minute before `at`). Returns the one notification the ending wrote.
 */
export async function endRetrieval(store: StorePort, id: string, uid: string, to: 'stored' | 'failed', at: string): Promise<Notification> {
  await store.createRetrieval(newRetrieval(id, uid));
  if (to === 'stored') {
    const before = new Date(Date.parse(at) - 60_000).toISOString();
    expect(await store.transition(id, ['requested'], 'retrieving', before)).not.toBeNull();
  }
  expect(await store.transition(id, [to === 'stored' ? 'retrieving' : 'requested'], to, at)).not.toBeNull();
  const [notification, ...more] = await store.notificationsFor(id);
  expect(more).toEqual([]);
  return notification!;
}

/** The activity key that a schema-3 database recorded (seen at 09:00 on 1 March 2026) before claims existed. */
export const preClaimsKey = 'msteams|a:chat|old';

/**
 * Checks, after migration 4, that `preClaimsKey` means done for 24 hours from when it was seen (not
 * even a named gone owner takes it over), and is an ordinary new key after that.
 */
export async function expectPreClaimsKeyDone(store: StorePort): Promise<void> {
  expect(await store.activityFor(preClaimsKey)).toEqual({
    key: preClaimsKey,
    state: 'done',
    owner: 'before-claims',
    claimedAt: '2026-03-01T09:00:00.000Z',
    claimUntil: '2026-03-01T09:00:00.000Z',
    expiresAt: '2026-03-02T09:00:00.000Z',
  });
  const claim = (at: string) =>
    store.claimActivity({ key: preClaimsKey, owner: 'bot-a', at, claimMs: 10_000, keepMs: 86_400_000, takeOverFrom: 'before-claims' });
  expect(await claim('2026-03-01T09:05:00.000Z')).toEqual({ outcome: 'done' });
  expect(await claim('2026-03-02T09:00:00.000Z')).toEqual({ outcome: 'claimed', previousOwner: null });
}

/** Awaits `promise` and checks that it rejected with a StoreError of `reason`. */
export async function expectStoreError(promise: Promise<unknown>, reason: StoreErrorReason): Promise<StoreError> {
  const error: unknown = await promise.then(
    () => new Error('expected a StoreError, but the call succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).reason).toBe(reason);
  return error as StoreError;
}

/** Runs the contract against stores made by `open` (a new, empty store each time; not yet migrated). */
export function storeContract(name: string, open: () => Promise<StorePort>): void {
  describe(`StorePort contract: ${name}`, () => {
    let store: StorePort;

    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
    });

    /** Moves retrieval `id` along `path` (from its current state), one transition a minute from 09:01. */
    async function walk(id: string, path: readonly RetrievalState[]): Promise<void> {
      let minute = 1;
      for (const to of path) {
        const current = await store.getRetrieval(id);
        const at = `2026-03-01T09:${String(minute++).padStart(2, '0')}:00.000Z`;
        expect(await store.transition(id, [current!.state], to, at)).not.toBeNull();
      }
    }

    describe('migrate', () => {
      it('is harmless when run again, and keeps what was written', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await store.appendAudit(auditEvent('2026-03-01T09:00:00.000Z'));
        await store.migrate();
        await store.migrate();
        expect((await store.getRetrieval('r1'))?.id).toBe('r1');
        expect(await store.auditSince('2026-01-01T00:00:00.000Z')).toHaveLength(1);
      });
    });

    describe('createRetrieval and getRetrieval', () => {
      it('records a new retrieval in state requested, with its first transition', async () => {
        const input = newRetrieval('r1');
        const { retrieval, created } = await store.createRetrieval(input);
        expect(created).toBe(true);
        expect(retrieval).toEqual({ ...input, state: 'requested', pacsJobId: null, failureReason: null, updatedAt: input.createdAt });
        expect(await store.getRetrieval('r1')).toEqual(retrieval);
        expect(await store.transitions('r1')).toEqual([
          { retrievalId: 'r1', from: null, to: 'requested', at: input.createdAt, detail: null },
        ]);
      });

      it('answers null and no transitions for an unknown id', async () => {
        expect(await store.getRetrieval('nope')).toBeNull();
        expect(await store.transitions('nope')).toEqual([]);
      });

      it('round-trips every value exactly: nulls, unicode, empty lists', async () => {
        const input = newRetrieval('r-ünï', '1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30', {
          requester: { ...bob, displayName: 'Dr Siân Ó Briain-Núñez 李小龍 👩‍⚕️', conversationId: 'a:ñ' },
          site: 'north-devon',
          study: { studyInstanceUid: '1.2.3', date: null, description: 'Ultrasound — “abdomen” ✓', modalities: [], instanceCount: null },
          cardActivityId: '1:activity',
          createdAt: '2026-03-01T10:00:00+01:00',
          keptUntil: '2026-03-31T10:00:00.123+01:00',
        });
        const { retrieval } = await store.createRetrieval(input);
        expect(retrieval.requester).toEqual(input.requester);
        expect(retrieval.study).toEqual(input.study);
        expect(retrieval).toEqual({ ...input, state: 'requested', pacsJobId: null, failureReason: null, updatedAt: input.createdAt });
        expect(await store.getRetrieval('r-ünï')).toEqual(retrieval);

        const multi = newRetrieval('r2', '1.2.4', {
          study: study('1.2.4', { modalities: ['MR', 'SR', 'PR'], instanceCount: 0, description: '', accessionNumber: 'RX-00123 Ø' }),
        });
        expect((await store.createRetrieval(multi)).retrieval.study).toEqual(multi.study);
        const moved = await store.transition('r2', ['requested'], 'retrieving', '2026-03-01T09:05:00.000Z', {
          pacsJobId: 'job-ø',
          cardActivityId: 'card-ø',
        });
        expect(moved).toMatchObject({ pacsJobId: 'job-ø', cardActivityId: 'card-ø', updatedAt: '2026-03-01T09:05:00.000Z' });
        expect(await store.getRetrieval('r2')).toEqual(moved);
      });

      it('hands out copies: changing what went in or came out changes nothing stored', async () => {
        const input = { ...newRetrieval('r1'), study: { ...study('1.2.9'), modalities: ['CT'] } };
        const { retrieval } = await store.createRetrieval(input);
        input.study.modalities.push('MR');
        (retrieval as { state: string }).state = 'stored';
        (retrieval.study.modalities as string[]).push('XA');
        (retrieval.requester as { displayName: string }).displayName = 'changed';
        const again = await store.getRetrieval('r1');
        expect(again?.state).toBe('requested');
        expect(again?.study.modalities).toEqual(['CT']);
        expect(again?.requester.displayName).toBe(alice.displayName);
        const event = { ...auditEvent('2026-03-01T09:00:00.000Z'), studies: ['1.2.9'] };
        await store.appendAudit(event);
        event.studies.push('changed');
        const [read] = await store.auditSince('2026-03-01T00:00:00.000Z');
        expect(read?.studies).toEqual(['1.2.9']);
        (read!.studies as string[]).push('changed');
        expect((await store.auditSince('2026-03-01T00:00:00.000Z'))[0]?.studies).toEqual(['1.2.9']);
      });

      it('refuses instants without an offset or that do not exist, and an empty id', async () => {
        await expectStoreError(store.createRetrieval(newRetrieval('r1', undefined, { createdAt: '2026-03-01T09:00:00' })), 'invalid');
        await expectStoreError(store.createRetrieval(newRetrieval('r1', undefined, { createdAt: 'yesterday' })), 'invalid');
        await expectStoreError(store.createRetrieval(newRetrieval('r1', undefined, { createdAt: '2026-02-30T09:00:00Z' })), 'invalid');
        await expectStoreError(store.createRetrieval(newRetrieval('r1', undefined, { keptUntil: '' })), 'invalid');
        await expectStoreError(store.createRetrieval(newRetrieval('')), 'invalid');
        expect(await store.getRetrieval('r1')).toBeNull();
      });

      it('keeps patient data out of error messages', async () => {
        const error = await expectStoreError(store.createRetrieval(newRetrieval('r1', '1.2.99', { createdAt: '9434765919' })), 'invalid');
        expect(error.message).not.toContain('9434765919');
        expect(error.message).not.toContain('1.2.99');
      });
    });

    describe('dedupe of active retrievals', () => {
      it('returns the active retrieval of the same site and study instead of a second one', async () => {
        const first = await store.createRetrieval(newRetrieval('r1'));
        const second = await store.createRetrieval(
          newRetrieval('r2', undefined, { requester: bob, createdAt: '2026-03-01T09:30:00.000Z' }),
        );
        expect(second).toEqual({ retrieval: first.retrieval, created: false });
        expect(await store.getRetrieval('r2')).toBeNull();
        expect(await store.transitions('r2')).toEqual([]);
        expect(await store.retrievalsFor(bob.teamsUserId, 10)).toEqual([]);
      });

      it('still dedupes while the first is retrieving', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['retrieving']);
        const second = await store.createRetrieval(newRetrieval('r2'));
        expect(second.created).toBe(false);
        expect(second.retrieval.id).toBe('r1');
        expect(second.retrieval.state).toBe('retrieving');
      });

      it('is idempotent for the same id', async () => {
        const first = await store.createRetrieval(newRetrieval('r1'));
        expect(await store.createRetrieval(newRetrieval('r1'))).toEqual({ retrieval: first.retrieval, created: false });
        expect(await store.transitions('r1')).toHaveLength(1);
      });

      it('treats another site or another study as a different retrieval', async () => {
        expect((await store.createRetrieval(newRetrieval('r1', '1.2.1'))).created).toBe(true);
        expect((await store.createRetrieval(newRetrieval('r2', '1.2.1', { site: 'plymouth' }))).created).toBe(true);
        expect((await store.createRetrieval(newRetrieval('r3', '1.2.2'))).created).toBe(true);
        expect((await store.activeRetrievals()).map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
      });

      it.each<[string, readonly RetrievalState[]]>([
        ['stored', ['retrieving', 'stored']],
        ['failed', ['failed']],
        ['failed while retrieving', ['retrieving', 'failed']],
      ])('allows a new retrieval once the first has %s', async (_, path) => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', path);
        const again = await store.createRetrieval(newRetrieval('r2', undefined, { createdAt: '2026-03-02T09:00:00.000Z' }));
        expect(again.created).toBe(true);
        expect(again.retrieval.id).toBe('r2');
        expect(again.retrieval.state).toBe('requested');
      });

      it('refuses an id that another retrieval already has, with conflict', async () => {
        await store.createRetrieval(newRetrieval('r1', '1.2.1'));
        await expectStoreError(store.createRetrieval(newRetrieval('r1', '1.2.2')), 'conflict');
        await walk('r1', ['failed']);
        await expectStoreError(store.createRetrieval(newRetrieval('r1', '1.2.1')), 'conflict');
        expect((await store.getRetrieval('r1'))?.study.studyInstanceUid).toBe('1.2.1');
      });

      it('creates exactly one of 50 concurrent requests for the same study', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.createRetrieval(newRetrieval(`r${i}`, '1.2.7', { createdAt: `2026-03-01T09:00:${String(i).padStart(2, '0')}.000Z` })),
          ),
        );
        const created = results.filter((r) => r.created);
        expect(created).toHaveLength(1);
        const winner = created[0]!.retrieval.id;
        expect(new Set(results.map((r) => r.retrieval.id))).toEqual(new Set([winner]));
        expect(await store.activeRetrievals()).toHaveLength(1);
        expect(await store.transitions(winner)).toHaveLength(1);
      });
    });

    describe('transition', () => {
      it('moves a retrieval and records the change with its details', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        const retrieving = await store.transition('r1', ['requested'], 'retrieving', '2026-03-01T09:01:00.000Z', {
          pacsJobId: 'job-1',
          cardActivityId: 'card-1',
          detail: 'C-MOVE started',
        });
        expect(retrieving).toMatchObject({
          id: 'r1',
          state: 'retrieving',
          pacsJobId: 'job-1',
          cardActivityId: 'card-1',
          failureReason: null,
          updatedAt: '2026-03-01T09:01:00.000Z',
          createdAt: '2026-03-01T09:00:00.000Z',
        });
        expect(await store.getRetrieval('r1')).toEqual(retrieving);
        const stored = await store.transition('r1', ['retrieving'], 'stored', '2026-03-01T09:07:00.000Z', { detail: '120 instances' });
        expect(stored).toMatchObject({
          state: 'stored',
          pacsJobId: 'job-1',
          cardActivityId: 'card-1',
          updatedAt: '2026-03-01T09:07:00.000Z',
        });
        expect(await store.transitions('r1')).toEqual([
          { retrievalId: 'r1', from: null, to: 'requested', at: '2026-03-01T09:00:00.000Z', detail: null },
          { retrievalId: 'r1', from: 'requested', to: 'retrieving', at: '2026-03-01T09:01:00.000Z', detail: 'C-MOVE started' },
          { retrievalId: 'r1', from: 'retrieving', to: 'stored', at: '2026-03-01T09:07:00.000Z', detail: '120 instances' },
        ]);
      });

      it('records a failure with its reason', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['retrieving']);
        const failed = await store.transition('r1', ['requested', 'retrieving'], 'failed', '2026-03-01T09:09:00.000Z', {
          failureReason: 'unreachable',
          detail: 'exeter did not answer',
        });
        expect(failed).toMatchObject({ state: 'failed', failureReason: 'unreachable' });
        expect((await store.transitions('r1')).at(-1)).toEqual({
          retrievalId: 'r1',
          from: 'retrieving',
          to: 'failed',
          at: '2026-03-01T09:09:00.000Z',
          detail: 'exeter did not answer',
        });
      });

      it('is compare-and-set: a retrieval not in `from` is left alone, with no transition recorded', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['retrieving']);
        const before = await store.getRetrieval('r1');
        expect(
          await store.transition('r1', ['requested'], 'failed', '2026-03-01T09:30:00.000Z', {
            failureReason: 'timed-out',
            pacsJobId: 'other',
          }),
        ).toBeNull();
        expect(await store.getRetrieval('r1')).toEqual(before);
        expect(await store.transitions('r1')).toHaveLength(2);
      });

      it('lets exactly one of two racing moves from the same state win', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['retrieving']);
        const [a, b] = await Promise.all([
          store.transition('r1', ['retrieving'], 'stored', '2026-03-01T09:10:00.000Z'),
          store.transition('r1', ['retrieving'], 'failed', '2026-03-01T09:10:00.000Z', { failureReason: 'protocol' }),
        ]);
        expect([a, b].filter((r) => r !== null)).toHaveLength(1);
        expect(await store.transitions('r1')).toHaveLength(3);
      });

      it.each<[readonly RetrievalState[], RetrievalState]>([
        [['requested'], 'stored'],
        [['requested'], 'requested'],
        [['retrieving'], 'requested'],
        [['retrieving'], 'retrieving'],
        [['stored'], 'requested'],
        [['stored'], 'retrieving'],
        [['stored'], 'failed'],
        [['stored'], 'stored'],
        [['failed'], 'retrieving'],
        [['failed'], 'stored'],
        [['failed'], 'failed'],
        [['requested', 'stored'], 'retrieving'],
        [['stored'], 'cancelled'],
        [['failed'], 'cancelled'],
        [['cancelled'], 'requested'],
        [['cancelled'], 'retrieving'],
        [['cancelled'], 'stored'],
        [['cancelled'], 'failed'],
        [['cancelled'], 'cancelled'],
        [[], 'retrieving'],
      ])('refuses the move %j -> %s with invalid, changing nothing', async (from, to) => {
        await store.createRetrieval(newRetrieval('r1'));
        const before = await store.getRetrieval('r1');
        await expectStoreError(store.transition('r1', from, to, '2026-03-01T09:10:00.000Z'), 'invalid');
        await expectStoreError(store.transition('unknown', from, to, '2026-03-01T09:10:00.000Z'), 'invalid');
        expect(await store.getRetrieval('r1')).toEqual(before);
        expect(await store.transitions('r1')).toHaveLength(1);
      });

      it('cancels a retrieval not yet ended (requested or retrieving), owing no notification; it is then no longer active', async () => {
        await store.createRetrieval(newRetrieval('r1', '1.2.1'));
        await store.createRetrieval(newRetrieval('r2', '1.2.2'));
        await walk('r2', ['retrieving']);
        for (const id of ['r1', 'r2']) {
          const cancelled = await store.transition(id, ['requested', 'retrieving'], 'cancelled', '2026-03-01T09:20:00.000Z', {
            detail: 'cancelled by the clinician',
          });
          expect(cancelled).toMatchObject({ state: 'cancelled', updatedAt: '2026-03-01T09:20:00.000Z' });
          expect((await store.transitions(id)).at(-1)).toMatchObject({ to: 'cancelled', detail: 'cancelled by the clinician' });
          expect(await store.notificationsFor(id)).toEqual([]);
        }
        expect(await store.activeRetrievals()).toEqual([]);
        // The poll's move of a cancelled retrieval finds it gone, and owes nothing.
        expect(await store.transition('r2', ['retrieving'], 'stored', '2026-03-01T09:21:00.000Z')).toBeNull();
        expect(await store.notificationsFor('r2')).toEqual([]);
        // The study may be retrieved afresh.
        expect((await store.createRetrieval(newRetrieval('r3', '1.2.2'))).created).toBe(true);
      });

      it('lets exactly one of a cancel and a completion racing from retrieving win, owing a notification only if the completion won', async () => {
        for (let i = 0; i < 10; i += 1) {
          const id = `race-${i}`;
          await store.createRetrieval(newRetrieval(id, `1.2.9.${i}`));
          await walk(id, ['retrieving']);
          const [cancel, stored] = await Promise.all([
            store.transition(id, ['requested', 'retrieving'], 'cancelled', '2026-03-01T09:10:00.000Z'),
            store.transition(id, ['retrieving'], 'stored', '2026-03-01T09:10:00.000Z'),
          ]);
          expect([cancel, stored].filter((r) => r !== null)).toHaveLength(1);
          const final = await store.getRetrieval(id);
          expect(final?.state).toBe(stored ? 'stored' : 'cancelled');
          expect((await store.notificationsFor(id)).map((n) => n.kind)).toEqual(stored ? ['stored'] : []);
          expect(await store.transitions(id)).toHaveLength(3);
        }
      });

      it('refuses a bad instant with invalid', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await expectStoreError(store.transition('r1', ['requested'], 'retrieving', 'now'), 'invalid');
        expect((await store.getRetrieval('r1'))?.state).toBe('requested');
      });

      it('answers not-found for an unknown retrieval', async () => {
        await expectStoreError(store.transition('unknown', ['requested'], 'retrieving', '2026-03-01T09:10:00.000Z'), 'not-found');
      });

      it('retries a failed retrieval: back to requested, clearing the old job and failure', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await store.transition('r1', ['requested'], 'retrieving', '2026-03-01T09:01:00.000Z', {
          pacsJobId: 'job-1',
          cardActivityId: 'card-1',
        });
        await store.transition('r1', ['retrieving'], 'failed', '2026-03-01T09:02:00.000Z', { failureReason: 'unreachable' });
        const retried = await store.transition('r1', ['failed'], 'requested', '2026-03-01T10:00:00.000Z', { detail: 'try again' });
        expect(retried).toMatchObject({
          state: 'requested',
          pacsJobId: null,
          failureReason: null,
          cardActivityId: 'card-1',
          updatedAt: '2026-03-01T10:00:00.000Z',
          createdAt: '2026-03-01T09:00:00.000Z',
        });
        expect((await store.activeRetrievals()).map((r) => r.id)).toEqual(['r1']);
        // Active again, so it dedupes again.
        expect(await store.createRetrieval(newRetrieval('r2'))).toMatchObject({ created: false, retrieval: { id: 'r1' } });
        const again = await store.transition('r1', ['requested'], 'retrieving', '2026-03-01T10:01:00.000Z', { pacsJobId: 'job-2' });
        expect(again).toMatchObject({ state: 'retrieving', pacsJobId: 'job-2' });
        expect((await store.transitions('r1')).map((t) => [t.from, t.to, t.detail])).toEqual([
          [null, 'requested', null],
          ['requested', 'retrieving', null],
          ['retrieving', 'failed', null],
          ['failed', 'requested', 'try again'],
          ['requested', 'retrieving', null],
        ]);
      });

      it('refuses a retry with conflict while a newer retrieval of the same study is active', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['failed']);
        expect((await store.createRetrieval(newRetrieval('r2', undefined, { createdAt: '2026-03-01T11:00:00.000Z' }))).created).toBe(true);
        await expectStoreError(store.transition('r1', ['failed'], 'requested', '2026-03-01T11:30:00.000Z'), 'conflict');
        expect((await store.getRetrieval('r1'))?.state).toBe('failed');
        expect(await store.transitions('r1')).toHaveLength(2);
      });
    });

    describe('listing', () => {
      it('lists active retrievals oldest first, by instant then creation order', async () => {
        await store.createRetrieval(newRetrieval('late', '1.1', { createdAt: '2026-03-01T12:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('early', '1.2', { createdAt: '2026-03-01T08:00:00.000Z' }));
        // 09:30 in UTC+1 is 08:30Z: ordered by instant, not by the text.
        await store.createRetrieval(newRetrieval('offset', '1.3', { createdAt: '2026-03-01T09:30:00.000+01:00' }));
        await store.createRetrieval(newRetrieval('tie-a', '1.4', { createdAt: '2026-03-01T10:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('tie-b', '1.5', { createdAt: '2026-03-01T10:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('done', '1.6', { createdAt: '2026-03-01T07:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('gone', '1.7', { createdAt: '2026-03-01T07:00:00.000Z' }));
        await walk('tie-a', ['retrieving']);
        await walk('done', ['retrieving', 'stored']);
        await walk('gone', ['failed']);
        expect((await store.activeRetrievals()).map((r) => r.id)).toEqual(['early', 'offset', 'tie-a', 'tie-b', 'late']);
      });

      it("lists a user's retrievals newest first, up to the limit, whatever their state", async () => {
        await store.createRetrieval(newRetrieval('a1', '1.1', { createdAt: '2026-03-01T08:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('a3', '1.3', { createdAt: '2026-03-03T08:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('a2', '1.2', { createdAt: '2026-03-02T08:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('b1', '1.4', { requester: bob, createdAt: '2026-03-04T08:00:00.000Z' }));
        await walk('a3', ['retrieving', 'stored']);
        expect((await store.retrievalsFor(alice.teamsUserId, 10)).map((r) => r.id)).toEqual(['a3', 'a2', 'a1']);
        expect((await store.retrievalsFor(alice.teamsUserId, 2)).map((r) => r.id)).toEqual(['a3', 'a2']);
        expect((await store.retrievalsFor(alice.teamsUserId, 2))[0]?.state).toBe('stored');
        expect(await store.retrievalsFor(alice.teamsUserId, 0)).toEqual([]);
        expect((await store.retrievalsFor(bob.teamsUserId, 10)).map((r) => r.id)).toEqual(['b1']);
        expect(await store.retrievalsFor('29:nobody', 10)).toEqual([]);
        await expectStoreError(store.retrievalsFor(alice.teamsUserId, -1), 'invalid');
        await expectStoreError(store.retrievalsFor(alice.teamsUserId, 1.5), 'invalid');
      });

      it("pages a user's retrievals: the limit after the offset newest, nothing past the end", async () => {
        for (let day = 1; day <= 5; day += 1)
          await store.createRetrieval(newRetrieval(`p${day}`, `1.${day}`, { createdAt: `2026-03-0${day}T08:00:00.000Z` }));
        expect((await store.retrievalsFor(alice.teamsUserId, 2, 0)).map((r) => r.id)).toEqual(['p5', 'p4']);
        expect((await store.retrievalsFor(alice.teamsUserId, 2, 2)).map((r) => r.id)).toEqual(['p3', 'p2']);
        expect((await store.retrievalsFor(alice.teamsUserId, 2, 4)).map((r) => r.id)).toEqual(['p1']);
        expect(await store.retrievalsFor(alice.teamsUserId, 2, 5)).toEqual([]);
        await expectStoreError(store.retrievalsFor(alice.teamsUserId, 2, -1), 'invalid');
        await expectStoreError(store.retrievalsFor(alice.teamsUserId, 2, 0.5), 'invalid');
      });

      it("lists a study's retrievals by anyone, newest first, for the studies asked about only", async () => {
        await store.createRetrieval(newRetrieval('old', '2.25.1', { createdAt: '2026-03-01T08:00:00.000Z' }));
        await walk('old', ['retrieving', 'stored']);
        await store.createRetrieval(newRetrieval('bobs', '2.25.1', { requester: bob, createdAt: '2026-03-05T08:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('other', '2.25.2', { createdAt: '2026-03-03T08:00:00.000Z' }));
        await store.createRetrieval(newRetrieval('unasked', '2.25.3', { createdAt: '2026-03-04T08:00:00.000Z' }));
        const found = await store.retrievalsOfStudies(['2.25.1', '2.25.2', '2.25.9'], 10);
        expect(found.map((r) => r.id)).toEqual(['bobs', 'other', 'old']);
        expect(found[0]!.requester.displayName).toBe(bob.displayName);
        expect(found[2]!.state).toBe('stored');
        expect((await store.retrievalsOfStudies(['2.25.1', '2.25.2'], 1)).map((r) => r.id)).toEqual(['bobs']);
        expect(await store.retrievalsOfStudies([], 10)).toEqual([]);
        // A UID is matched whole, never as a pattern.
        expect(await store.retrievalsOfStudies(['2.25.%', "2.25.1' OR '1'='1"], 10)).toEqual([]);
        await expectStoreError(store.retrievalsOfStudies(['2.25.1'], -1), 'invalid');
        await expectStoreError(store.retrievalsOfStudies('2.25.1' as never, 10), 'invalid');
      });
    });

    describe('audit', () => {
      it('round-trips an event exactly', async () => {
        const event = auditEvent('2026-03-01T09:00:00.000Z', {
          action: 'retrieval-outcome',
          entraObjectId: null,
          displayName: 'Dr Siân Ó Briain 李',
          site: 'exeter',
          studies: ['1.2.3', '1.2.4'],
          outcome: 'failed: unreachable',
        });
        await store.appendAudit(event);
        await store.appendAudit(
          auditEvent('2026-03-01T09:01:00.000Z', { nhsNumber: null, action: 'access-refused', outcome: 'refused: tenant' }),
        );
        expect(await store.auditSince('2026-03-01T09:00:00.000Z')).toEqual([
          event,
          auditEvent('2026-03-01T09:01:00.000Z', { nhsNumber: null, action: 'access-refused', outcome: 'refused: tenant' }),
        ]);
      });

      it('answers events at or after `since`, by instant then by insertion', async () => {
        await store.appendAudit(auditEvent('2026-03-01T10:00:00.000Z', { outcome: 'ten-first' }));
        await store.appendAudit(auditEvent('2026-03-01T08:00:00.000Z', { outcome: 'eight' }));
        await store.appendAudit(auditEvent('2026-03-01T10:00:00.000Z', { outcome: 'ten-second' }));
        await store.appendAudit(auditEvent('2026-03-01T10:30:00.000+01:00', { outcome: 'nine-thirty' }));
        await store.appendAudit(auditEvent('2026-03-01T09:00:00.000Z', { outcome: 'nine' }));
        const outcomes = async (since: string): Promise<string[]> => (await store.auditSince(since)).map((e) => e.outcome);
        expect(await outcomes('2026-01-01T00:00:00.000Z')).toEqual(['eight', 'nine', 'nine-thirty', 'ten-first', 'ten-second']);
        expect(await outcomes('2026-03-01T09:00:00.000Z')).toEqual(['nine', 'nine-thirty', 'ten-first', 'ten-second']);
        expect(await outcomes('2026-03-01T09:00:00.001Z')).toEqual(['nine-thirty', 'ten-first', 'ten-second']);
        expect(await outcomes('2026-03-01T11:00:00.000+01:00')).toEqual(['ten-first', 'ten-second']);
        expect(await outcomes('2026-03-01T10:00:00.001Z')).toEqual([]);
      });

      it('purges the events before a cutoff and records the purge in the trail, in one step', async () => {
        for (const at of ['2026-01-01T08:00:00.000Z', '2026-02-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-03-01T09:00:00.000Z']) {
          await store.appendAudit(auditEvent(at, { outcome: at }));
        }
        const record = (purged: number) =>
          auditEvent('2026-03-02T00:00:00.000Z', {
            action: 'audit-purged',
            teamsUserId: 'system',
            nhsNumber: null,
            outcome: `purged ${purged}`,
          });
        expect(await store.purgeAudit('2026-03-01T08:00:00.000Z', record)).toBe(2);
        expect((await store.auditSince('2000-01-01T00:00:00Z')).map((e) => e.outcome)).toEqual([
          '2026-03-01T08:00:00.000Z',
          '2026-03-01T09:00:00.000Z',
          'purged 2',
        ]);
        // Nothing older left: nothing purged, nothing recorded.
        expect(await store.purgeAudit('2026-03-01T08:00:00.000Z', record)).toBe(0);
        expect(await store.auditSince('2000-01-01T00:00:00Z')).toHaveLength(3);
      });

      it('purges nothing when the purge cannot be recorded', async () => {
        await store.appendAudit(auditEvent('2026-01-01T08:00:00.000Z'));
        await expectStoreError(
          store.purgeAudit('2026-03-01T00:00:00.000Z', () => auditEvent('not an instant', { action: 'audit-purged' })),
          'invalid',
        );
        expect(await store.auditSince('2000-01-01T00:00:00Z')).toHaveLength(1);
        await expectStoreError(
          store.purgeAudit('last March', () => auditEvent('2026-03-02T00:00:00.000Z')),
          'invalid',
        );
      });

      it('refuses bad instants with invalid', async () => {
        await expectStoreError(store.appendAudit(auditEvent('2026-03-01 09:00')), 'invalid');
        await expectStoreError(store.auditSince('since yesterday'), 'invalid');
        expect(await store.auditSince('2000-01-01T00:00:00Z')).toEqual([]);
      });
    });

    describe('audit counts (the patient-search rate limit)', () => {
      it("counts one user's events of one action at or after `since`", async () => {
        await store.appendAudit(auditEvent('2026-03-01T09:00:00.000Z', { action: 'patient-search' }));
        await store.appendAudit(auditEvent('2026-03-01T09:00:30.000Z', { action: 'patient-search' }));
        await store.appendAudit(auditEvent('2026-03-01T09:00:40.000Z', { action: 'retrieval-confirmed' }));
        await store.appendAudit(auditEvent('2026-03-01T09:00:50.000Z', { action: 'patient-search', teamsUserId: bob.teamsUserId }));
        expect(await store.countAudit(alice.teamsUserId, 'patient-search', '2026-03-01T09:00:00.000Z')).toBe(2);
        expect(await store.countAudit(alice.teamsUserId, 'patient-search', '2026-03-01T09:00:00.001Z')).toBe(1);
        expect(await store.countAudit(alice.teamsUserId, 'retrieval-confirmed', '2026-03-01T08:00:00.000Z')).toBe(1);
        expect(await store.countAudit(bob.teamsUserId, 'patient-search', '2026-03-01T08:00:00.000Z')).toBe(1);
        expect(await store.countAudit('29:nobody', 'patient-search', '2026-03-01T08:00:00.000Z')).toBe(0);
        await expectStoreError(store.countAudit(alice.teamsUserId, 'patient-search', 'a minute ago'), 'invalid');
      });
    });

    describe('inbound activities (claims: re-delivery)', () => {
      const day = 24 * 60 * 60 * 1000;
      const t0 = '2026-03-01T09:00:00.000Z';
      const later = (ms: number): string => new Date(Date.parse(t0) + ms).toISOString();
      const claim = (key: string, owner: string, at = t0, takeOverFrom: string | null = null) =>
        store.claimActivity({ key, owner, at, claimMs: 10_000, keepMs: day, takeOverFrom });

      it('claims a new key, answers held to another owner within the lease, and done to everyone once finished', async () => {
        expect(await claim('msteams|a:chat|1', 'bot-a')).toEqual({ outcome: 'claimed', previousOwner: null });
        expect(await claim('msteams|a:chat|1', 'bot-b', later(5_000))).toEqual({
          outcome: 'held',
          owner: 'bot-a',
          claimUntil: later(10_000),
        });
        // The owner itself does not claim twice: its first turn is still running.
        expect(await claim('msteams|a:chat|1', 'bot-a', later(6_000))).toMatchObject({ outcome: 'held', owner: 'bot-a' });
        expect(await store.activityFor('msteams|a:chat|1')).toEqual({
          key: 'msteams|a:chat|1',
          state: 'claimed',
          owner: 'bot-a',
          claimedAt: t0,
          claimUntil: later(10_000),
          expiresAt: later(day),
        });
        expect(await store.finishActivity('msteams|a:chat|1', 'bot-b')).toBe(false);
        expect(await store.finishActivity('msteams|a:chat|1', 'bot-a')).toBe(true);
        expect(await store.finishActivity('msteams|a:chat|1', 'bot-a')).toBe(false);
        for (const owner of ['bot-a', 'bot-b']) expect(await claim('msteams|a:chat|1', owner, later(7_000))).toEqual({ outcome: 'done' });
        expect(await store.activityFor('msteams|a:chat|1')).toMatchObject({ state: 'done', owner: 'bot-a' });
        // Another id, or the same id in another chat, is another key.
        expect(await claim('msteams|a:chat|2', 'bot-b')).toEqual({ outcome: 'claimed', previousOwner: null });
        expect(await store.activityFor('never-claimed')).toBeNull();
      });

      it('takes over a claim whose lease has run out, after which the first owner can neither finish nor release it', async () => {
        await claim('k', 'bot-a');
        expect(await claim('k', 'bot-b', later(9_999))).toMatchObject({ outcome: 'held' });
        expect(await claim('k', 'bot-b', later(10_000))).toEqual({ outcome: 'claimed', previousOwner: 'bot-a' });
        expect(await store.finishActivity('k', 'bot-a')).toBe(false);
        expect(await store.releaseActivity('k', 'bot-a')).toBe(false);
        expect(await store.activityFor('k')).toMatchObject({ state: 'claimed', owner: 'bot-b', claimUntil: later(20_000) });
        expect(await store.finishActivity('k', 'bot-b')).toBe(true);
      });

      it('takes over at once from an owner named as gone, and only from that owner', async () => {
        await claim('k', 'bot-a');
        expect(await claim('k', 'bot-b', later(1_000), 'bot-c')).toMatchObject({ outcome: 'held', owner: 'bot-a' });
        expect(await claim('k', 'bot-b', later(1_000), 'bot-a')).toEqual({ outcome: 'claimed', previousOwner: 'bot-a' });
        expect(await claim('k', 'bot-c', later(2_000), 'bot-a')).toMatchObject({ outcome: 'held', owner: 'bot-b' });
      });

      it('never hands out a finished key again: not after the lease, nor from a gone owner; only once the key has expired', async () => {
        await claim('k', 'bot-a');
        await store.finishActivity('k', 'bot-a');
        expect(await claim('k', 'bot-b', later(60_000), 'bot-a')).toEqual({ outcome: 'done' });
        expect(await claim('k', 'bot-b', later(day - 1))).toEqual({ outcome: 'done' });
        expect(await claim('k', 'bot-b', later(day))).toEqual({ outcome: 'claimed', previousOwner: null });
      });

      it("releases only its owner's unfinished claim, so a failed turn's re-delivery is handled afresh", async () => {
        await claim('k', 'bot-a');
        expect(await store.releaseActivity('k', 'bot-b')).toBe(false);
        expect(await store.releaseActivity('k', 'bot-a')).toBe(true);
        expect(await store.activityFor('k')).toBeNull();
        expect(await claim('k', 'bot-b', later(1_000))).toEqual({ outcome: 'claimed', previousOwner: null });
        await store.finishActivity('k', 'bot-b');
        expect(await store.releaseActivity('k', 'bot-b')).toBe(false);
        expect(await claim('k', 'bot-c', later(2_000))).toEqual({ outcome: 'done' });
        expect(await store.releaseActivity('never-claimed', 'bot-a')).toBe(false);
      });

      it('gives a key to exactly one of many owners racing for it', async () => {
        const owners = Array.from({ length: 10 }, (_, i) => `bot-${i}`);
        const results = await Promise.all(owners.map((owner) => claim('msteams|a:chat|race', owner)));
        const winners = owners.filter((_, i) => results[i]!.outcome === 'claimed');
        expect(winners).toHaveLength(1);
        for (const r of results) if (r.outcome !== 'claimed') expect(r).toMatchObject({ outcome: 'held', owner: winners[0] });
      });

      it('refuses a bad key, owner, instant, claim or keep time with invalid', async () => {
        const ok = { key: 'k', owner: 'bot-a', at: t0, claimMs: 10_000, keepMs: day };
        await expectStoreError(store.claimActivity({ ...ok, key: '' }), 'invalid');
        await expectStoreError(store.claimActivity({ ...ok, key: 'k'.repeat(1025) }), 'invalid');
        await expectStoreError(store.claimActivity({ ...ok, owner: '' }), 'invalid');
        await expectStoreError(store.claimActivity({ ...ok, at: 'now' }), 'invalid');
        await expectStoreError(store.claimActivity({ ...ok, claimMs: 0 }), 'invalid');
        await expectStoreError(store.claimActivity({ ...ok, keepMs: 5_000 }), 'invalid');
        await expectStoreError(store.claimActivity({ ...ok, keepMs: 1e300 }), 'invalid');
        await expectStoreError(store.finishActivity('', 'bot-a'), 'invalid');
        await expectStoreError(store.releaseActivity('', 'bot-a'), 'invalid');
        expect(await store.activityFor('k')).toBeNull();
      });
    });

    describe('confirmations (one unit)', () => {
      const at = '2026-03-01T09:00:00.000Z';
      const confirmed = (uid: string, outcome: string): AuditEvent =>
        auditEvent(at, { action: 'retrieval-confirmed', site: 'exeter', studies: [uid], outcome });
      const entry = (id: string, uid: string) => ({
        retrieval: newRetrieval(id, uid),
        audit: { created: confirmed(uid, 'confirmed'), existing: confirmed(uid, 'already-downloading') },
      });
      const turn = { key: 'msteams|a:chat|confirm', owner: 'bot-a' };

      it('records the retrievals, their audit lines and the done claim together, in order', async () => {
        await store.claimActivity({ ...turn, at, claimMs: 10_000, keepMs: 60_000 });
        const existing = await store.createRetrieval(newRetrieval('r0', '1.2.2'));
        const results = await store.recordConfirmation({
          entries: [entry('r1', '1.2.1'), { retrieval: null, audit: confirmed('1.2.9', 'already-local') }, entry('r2', '1.2.2')],
          activity: turn,
        });
        expect(results).toEqual([
          { retrieval: expect.objectContaining({ id: 'r1', state: 'requested' }), created: true },
          null,
          { retrieval: existing.retrieval, created: false },
        ]);
        expect((await store.auditSince(at)).map((e) => [e.studies[0], e.outcome])).toEqual([
          ['1.2.1', 'confirmed'],
          ['1.2.9', 'already-local'],
          ['1.2.2', 'already-downloading'],
        ]);
        expect(await store.transitions('r1')).toEqual([{ retrievalId: 'r1', from: null, to: 'requested', at, detail: null }]);
        expect(await store.activityFor(turn.key)).toMatchObject({ state: 'done', owner: 'bot-a' });
        expect(await store.getRetrieval('r2')).toBeNull();
      });

      it('writes nothing at all when one part is refused', async () => {
        await store.claimActivity({ ...turn, at, claimMs: 10_000, keepMs: 60_000 });
        await store.createRetrieval(newRetrieval('taken', '1.2.5'));
        await store.transition('taken', ['requested'], 'failed', at, { failureReason: 'unreachable' });
        const before = await store.auditSince(at);
        // The second entry reuses an id: the first must not stay behind.
        await expectStoreError(
          store.recordConfirmation({ entries: [entry('r1', '1.2.1'), entry('taken', '1.2.6')], activity: turn }),
          'conflict',
        );
        expect(await store.getRetrieval('r1')).toBeNull();
        expect(await store.activeRetrievals()).toEqual([]);
        expect(await store.auditSince(at)).toEqual(before);
        expect(await store.activityFor(turn.key)).toMatchObject({ state: 'claimed' });
        await expectStoreError(
          store.recordConfirmation({ entries: [{ retrieval: null, audit: auditEvent('yesterday') }], activity: null }),
          'invalid',
        );
        expect(await store.auditSince(at)).toEqual(before);
      });

      it('records one active retrieval of a study when two confirmations race', async () => {
        const results = await Promise.all(
          ['a', 'b', 'c'].map((n) => store.recordConfirmation({ entries: [entry(`r-${n}`, '1.2.7')], activity: null })),
        );
        expect(results.filter((r) => r[0]?.created)).toHaveLength(1);
        expect(await store.activeRetrievals()).toHaveLength(1);
      });
    });

    describe('ping', () => {
      it('resolves while open and fails with unavailable once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expectStoreError(store.ping(), 'unavailable');
      });
    });

    describe('conversation references', () => {
      it('answers null for a user or conversation it has no reference for', async () => {
        expect(await store.referenceFor(alice.teamsUserId, alice.conversationId)).toBeNull();
        await store.saveReference(storedReference());
        expect(await store.referenceFor(alice.teamsUserId, 'a:another-conversation')).toBeNull();
        expect(await store.referenceFor(bob.teamsUserId, alice.conversationId)).toBeNull();
        expect(await store.referenceFor('', '')).toBeNull();
      });

      it('saves a reference and reads it back exactly', async () => {
        const saved = storedReference('2026-03-01T09:55:00.000+01:00');
        await store.saveReference(saved);
        expect(await store.referenceFor(alice.teamsUserId, alice.conversationId)).toEqual(saved);
        const emulator = storedReference('2026-03-01T09:00:00Z', {
          teamsUserId: bob.teamsUserId,
          entraObjectId: null,
          conversationId: 'a:ñ 李 👩‍⚕️',
          reference: JSON.stringify({ channelId: 'emulator', serviceUrl: 'http://localhost:3978', conversation: { id: 'a:ñ 李 👩‍⚕️' } }),
        });
        await store.saveReference(emulator);
        expect(await store.referenceFor(bob.teamsUserId, 'a:ñ 李 👩‍⚕️')).toEqual(emulator);
      });

      it('keeps one reference per user and conversation, refreshed by a later save', async () => {
        await store.saveReference(storedReference('2026-03-01T08:00:00.000Z'));
        const group = storedReference('2026-03-01T08:30:00.000Z', { conversationId: '19:group-chat' });
        await store.saveReference(group);
        const refreshed = storedReference('2026-03-02T08:00:00.000Z', {
          entraObjectId: null,
          reference: JSON.stringify({ channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/emea/' }),
        });
        await store.saveReference(refreshed);
        expect(await store.referenceFor(alice.teamsUserId, alice.conversationId)).toEqual(refreshed);
        expect(await store.referenceFor(alice.teamsUserId, '19:group-chat')).toEqual(group);
      });

      it('hands out copies', async () => {
        const saved = { ...storedReference() };
        await store.saveReference(saved);
        (saved as { reference: string }).reference = '{}';
        const read = await store.referenceFor(alice.teamsUserId, alice.conversationId);
        (read as { updatedAt: string }).updatedAt = 'changed';
        expect(await store.referenceFor(alice.teamsUserId, alice.conversationId)).toEqual(storedReference());
      });

      it.each<[string, Partial<StoredReference>]>([
        ['an instant without an offset', { updatedAt: '2026-03-01T08:55:00' }],
        ['a day that does not exist', { updatedAt: '2026-02-30T08:55:00Z' }],
        ['an empty user id', { teamsUserId: '' }],
        ['an empty conversation id', { conversationId: '' }],
        ['a reference that is not JSON', { reference: 'serviceUrl=https://example.org 9434765919' }],
        ['a reference that is not an object', { reference: '"9434765919"' }],
      ])('refuses %s with invalid, saving nothing and naming no value', async (_, overrides) => {
        const error = await expectStoreError(store.saveReference(storedReference(undefined, overrides)), 'invalid');
        expect(error.message).not.toContain('9434765919');
        expect(error.message).not.toContain('2026');
        expect(
          await store.referenceFor(overrides.teamsUserId ?? alice.teamsUserId, overrides.conversationId ?? alice.conversationId),
        ).toBeNull();
      });
    });

    describe('notifications: the outbox written with the state change', () => {
      /** What a new notification written by a move at `at` looks like. */
      const pending = (retrievalId: string, kind: 'stored' | 'failed', at: string): Notification => ({
        id: expect.any(String),
        retrievalId,
        kind,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: at,
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
        createdAt: at,
        sentAt: null,
      });

      it('writes exactly one pending stored notification with a move to stored, and none for other moves', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        expect(await store.notificationsFor('r1')).toEqual([]);
        await store.transition('r1', ['requested'], 'retrieving', '2026-03-01T09:01:00.000Z');
        expect(await store.notificationsFor('r1')).toEqual([]);
        await store.transition('r1', ['retrieving'], 'stored', '2026-03-01T09:07:00.000Z', { detail: '120 instances' });
        const notifications = await store.notificationsFor('r1');
        expect(notifications).toEqual([pending('r1', 'stored', '2026-03-01T09:07:00.000Z')]);
        expect(notifications[0]!.id).not.toBe('');
      });

      it.each<[string, readonly RetrievalState[]]>([
        ['requested', ['failed']],
        ['retrieving', ['retrieving', 'failed']],
      ])('writes exactly one pending failed notification with a move from %s to failed', async (_, path) => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', path);
        const at = `2026-03-01T09:0${path.length}:00.000Z`;
        expect(await store.notificationsFor('r1')).toEqual([pending('r1', 'failed', at)]);
      });

      it('writes a new failed notification for each failure of a retried retrieval, then one for its success', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['retrieving', 'failed', 'requested', 'retrieving', 'failed']);
        const failures = await store.notificationsFor('r1');
        expect(failures).toEqual([
          pending('r1', 'failed', '2026-03-01T09:02:00.000Z'),
          pending('r1', 'failed', '2026-03-01T09:05:00.000Z'),
        ]);
        expect(failures[0]!.id).not.toBe(failures[1]!.id);
        await store.transition('r1', ['failed'], 'requested', '2026-03-01T10:00:00.000Z');
        await store.transition('r1', ['requested'], 'retrieving', '2026-03-01T10:01:00.000Z');
        await store.transition('r1', ['retrieving'], 'stored', '2026-03-01T10:02:00.000Z');
        expect(await store.notificationsFor('r1')).toEqual([...failures, pending('r1', 'stored', '2026-03-01T10:02:00.000Z')]);
      });

      it("lists a retrieval's notifications oldest first by instant, and only its own", async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await store.transition('r1', ['requested'], 'failed', '2026-03-01T10:00:00.000Z');
        await store.transition('r1', ['failed'], 'requested', '2026-03-01T10:01:00.000Z');
        // An earlier instant written with an offset: 10:30+01:00 is 09:30Z, before the first failure.
        await store.transition('r1', ['requested'], 'failed', '2026-03-01T10:30:00.000+01:00');
        await endRetrieval(store, 'r2', '1.2.2', 'stored', '2026-03-01T09:00:00.000Z');
        expect((await store.notificationsFor('r1')).map((n) => n.createdAt)).toEqual([
          '2026-03-01T10:30:00.000+01:00',
          '2026-03-01T10:00:00.000Z',
        ]);
        expect((await store.notificationsFor('r2')).map((n) => n.kind)).toEqual(['stored']);
        expect(await store.notificationsFor('nope')).toEqual([]);
      });

      it('writes nothing for a move that is refused, invalid or in conflict', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['retrieving']);
        expect(await store.transition('r1', ['requested'], 'failed', '2026-03-01T09:30:00.000Z')).toBeNull();
        await expectStoreError(store.transition('r1', ['requested'], 'stored', '2026-03-01T09:30:00.000Z'), 'invalid');
        await expectStoreError(store.transition('r1', ['retrieving'], 'stored', 'later'), 'invalid');
        expect(await store.notificationsFor('r1')).toEqual([]);
        await store.transition('r1', ['retrieving'], 'failed', '2026-03-01T09:31:00.000Z');
        expect((await store.createRetrieval(newRetrieval('r2', undefined, { createdAt: '2026-03-01T11:00:00.000Z' }))).created).toBe(true);
        await expectStoreError(store.transition('r1', ['failed'], 'requested', '2026-03-01T11:30:00.000Z'), 'conflict');
        expect(await store.notificationsFor('r1')).toHaveLength(1);
        expect(await store.notificationsFor('r2')).toEqual([]);
      });

      it("writes one notification, of the winner's kind, when a move to stored races a move to failed", async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await walk('r1', ['retrieving']);
        const [stored, failed] = await Promise.all([
          store.transition('r1', ['retrieving'], 'stored', '2026-03-01T09:10:00.000Z'),
          store.transition('r1', ['retrieving'], 'failed', '2026-03-01T09:10:00.000Z', { failureReason: 'protocol' }),
        ]);
        const winner = stored ?? failed;
        expect((await store.notificationsFor('r1')).map((n) => n.kind)).toEqual([winner!.state]);
      });
    });

    describe('notifications: claiming and settling', () => {
      const minute = 60_000;

      /** Three ended retrievals whose notifications were created at 09:10Z, 09:05Z and 09:20Z. */
      async function threeEnded(): Promise<{ first: Notification; second: Notification; third: Notification }> {
        const second = await endRetrieval(store, 'r-second', '1.2.2', 'failed', '2026-03-01T09:10:00.000Z');
        // 10:05+01:00 is 09:05Z: the oldest, whatever the text says.
        const first = await endRetrieval(store, 'r-first', '1.2.1', 'stored', '2026-03-01T10:05:00.000+01:00');
        const third = await endRetrieval(store, 'r-third', '1.2.3', 'failed', '2026-03-01T09:20:00.000Z');
        return { first, second, third };
      }

      /** The notification `id` as the store now holds it. */
      async function current(retrievalId: string): Promise<Notification> {
        const [notification] = await store.notificationsFor(retrievalId);
        return notification!;
      }

      it("names the lease holders, and releases a gone owner's leases so another may claim at once", async () => {
        await threeEnded();
        expect(await store.leaseHolders()).toEqual([]);
        await store.claimNotifications('bot-a:101:x', '2026-03-01T10:00:00.000Z', 5 * minute, 2);
        await store.claimNotifications('bot-b:202:y', '2026-03-01T10:00:00.000Z', 5 * minute, 2);
        expect(await store.leaseHolders()).toEqual(['bot-a:101:x', 'bot-b:202:y']);

        expect(await store.releaseLeases('bot-a:101:x')).toBe(2);
        expect(await store.leaseHolders()).toEqual(['bot-b:202:y']);
        // Within what was bot-a's lease, bot-c takes both; attempts keep counting.
        const taken = await store.claimNotifications('bot-c:303:z', '2026-03-01T10:01:00.000Z', 5 * minute, 5);
        expect(taken.map((n) => [n.retrievalId, n.attempts, n.leaseOwner])).toEqual([
          ['r-first', 2, 'bot-c:303:z'],
          ['r-second', 2, 'bot-c:303:z'],
        ]);
        // The old owner can no longer settle them.
        expect(await store.settleNotification(taken[0]!.id, 'bot-a:101:x', { state: 'sent', at: '2026-03-01T10:02:00.000Z' })).toBe(false);
        expect(await store.releaseLeases('nobody')).toBe(0);
        await expectStoreError(store.releaseLeases(''), 'invalid');
      });

      it('leases due notifications oldest first, up to the limit, counting an attempt each', async () => {
        const { first, second, third } = await threeEnded();
        const claimed = await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', 5 * minute, 2);
        const leased = { state: 'pending', attempts: 1, leaseOwner: 'bot-a', leaseUntil: '2026-03-01T10:05:00.000Z' };
        expect(claimed).toEqual([
          { ...first, ...leased },
          { ...second, ...leased },
        ]);
        expect(await current('r-first')).toEqual(claimed[0]);
        expect(await current('r-second')).toEqual(claimed[1]);
        expect(await store.claimNotifications('bot-b', '2026-03-01T10:00:00.000Z', 5 * minute, 2)).toEqual([
          { ...third, attempts: 1, leaseOwner: 'bot-b', leaseUntil: '2026-03-01T10:05:00.000Z' },
        ]);
        expect(await store.claimNotifications('bot-c', '2026-03-01T10:00:00.000Z', 5 * minute, 2)).toEqual([]);
      });

      it('leases only notifications that are due at `now`', async () => {
        await threeEnded();
        expect(await store.claimNotifications('bot-a', '2026-03-01T09:04:59.999Z', minute, 10)).toEqual([]);
        // Due at exactly their nextAttemptAt, compared as instants (09:10 in UTC+1 is 08:10Z).
        expect((await store.claimNotifications('bot-a', '2026-03-01T10:10:00.000+01:00', minute, 10)).map((n) => n.retrievalId)).toEqual([
          'r-first',
          'r-second',
        ]);
        expect(await current('r-first')).toMatchObject({ leaseUntil: '2026-03-01T09:11:00.000Z' });
        expect(await current('r-third')).toMatchObject({ attempts: 0, leaseOwner: null });
      });

      it('leases nothing for a limit of 0, and refuses bad arguments with invalid, naming no value', async () => {
        await threeEnded();
        const now = '2026-03-01T10:00:00.000Z';
        expect(await store.claimNotifications('bot-a', now, minute, 0)).toEqual([]);
        await expectStoreError(store.claimNotifications('bot-a', '2026-03-01 10:00', minute, 1), 'invalid');
        await expectStoreError(store.claimNotifications('bot-a', now, -1, 1), 'invalid');
        await expectStoreError(store.claimNotifications('bot-a', now, 0, 1), 'invalid');
        await expectStoreError(store.claimNotifications('bot-a', now, 1.5, 1), 'invalid');
        await expectStoreError(store.claimNotifications('bot-a', now, Number.POSITIVE_INFINITY, 1), 'invalid');
        await expectStoreError(store.claimNotifications('bot-a', '9999-12-31T23:59:00Z', 5 * minute, 1), 'invalid');
        await expectStoreError(store.claimNotifications('bot-a', now, minute, -1), 'invalid');
        await expectStoreError(store.claimNotifications('bot-a', now, minute, 0.5), 'invalid');
        await expectStoreError(store.claimNotifications('', now, minute, 1), 'invalid');
        const error = await expectStoreError(store.claimNotifications('bot-a', '9434765919', minute, 1), 'invalid');
        expect(error.message).not.toContain('9434765919');
        for (const id of ['r-first', 'r-second', 'r-third'])
          expect(await current(id)).toMatchObject({ attempts: 0, leaseOwner: null, leaseUntil: null });
      });

      it('does not lease a notification under a live lease, to another owner or the same one', async () => {
        await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        expect(await store.claimNotifications('bot-b', '2026-03-01T10:00:00.000Z', minute, 10)).toEqual([]);
        expect(await store.claimNotifications('bot-a', '2026-03-01T10:00:30.000Z', minute, 10)).toEqual([]);
        expect(await store.claimNotifications('bot-b', '2026-03-01T10:00:59.999Z', minute, 10)).toEqual([]);
        expect(await current('r1')).toMatchObject({ attempts: 1, leaseOwner: 'bot-a', leaseUntil: '2026-03-01T10:01:00.000Z' });
      });

      it('leases again once a lease has run out; the old owner can then settle nothing', async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        const [again] = await store.claimNotifications('bot-b', '2026-03-01T10:01:00.000Z', 2 * minute, 10);
        expect(again).toMatchObject({ id, attempts: 2, leaseOwner: 'bot-b', leaseUntil: '2026-03-01T10:03:00.000Z' });
        expect(await store.settleNotification(id, 'bot-a', { state: 'sent', at: '2026-03-01T10:01:30.000Z' })).toBe(false);
        expect(await current('r1')).toEqual(again);
        expect(await store.settleNotification(id, 'bot-b', { state: 'sent', at: '2026-03-01T10:01:40.000Z' })).toBe(true);
        expect(await current('r1')).toMatchObject({ state: 'sent', sentAt: '2026-03-01T10:01:40.000Z', attempts: 2, leaseOwner: null });
      });

      it('lets the holder settle a lease that has run out if no one else has claimed it', async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        expect(await store.settleNotification(id, 'bot-a', { state: 'sent', at: '2026-03-01T10:30:00.000Z' })).toBe(true);
        expect(await store.claimNotifications('bot-b', '2026-03-01T10:30:00.000Z', minute, 10)).toEqual([]);
      });

      it('settles sent: records when, releases the lease, and never leases it again', async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        const [claimed] = await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        expect(await store.settleNotification(id, 'bot-a', { state: 'sent', at: '2026-03-01T10:00:02.000Z' })).toBe(true);
        expect(await current('r1')).toEqual({
          ...claimed,
          state: 'sent',
          sentAt: '2026-03-01T10:00:02.000Z',
          leaseOwner: null,
          leaseUntil: null,
        });
        expect(await store.claimNotifications('bot-a', '2026-03-01T10:00:02.000Z', minute, 10)).toEqual([]);
        expect(await store.claimNotifications('bot-b', '2027-03-01T10:00:00.000Z', minute, 10)).toEqual([]);
        expect(await store.settleNotification(id, 'bot-a', { state: 'sent', at: '2026-03-01T10:00:03.000Z' })).toBe(false);
        expect(
          await store.settleNotification(id, 'bot-a', { state: 'pending', nextAttemptAt: '2026-03-01T10:05:00.000Z', error: 'again' }),
        ).toBe(false);
        expect(await current('r1')).toMatchObject({ state: 'sent', sentAt: '2026-03-01T10:00:02.000Z', lastError: null });
      });

      it('settles undeliverable: records the error, releases the lease, and never leases it again', async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'failed', '2026-03-01T09:10:00.000Z');
        const [claimed] = await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        expect(
          await store.settleNotification(id, 'bot-a', {
            state: 'undeliverable',
            at: '2026-03-01T10:00:01.000Z',
            error: 'bot removed from the chat',
          }),
        ).toBe(true);
        expect(await current('r1')).toEqual({
          ...claimed,
          state: 'undeliverable',
          lastError: 'bot removed from the chat',
          leaseOwner: null,
          leaseUntil: null,
          sentAt: null,
        });
        expect(await store.claimNotifications('bot-b', '2027-03-01T10:00:00.000Z', minute, 10)).toEqual([]);
        expect(await store.settleNotification(id, 'bot-a', { state: 'sent', at: '2026-03-01T10:00:03.000Z' })).toBe(false);
        expect((await current('r1')).state).toBe('undeliverable');
      });

      it('settles pending: backs off until nextAttemptAt, then leases it again; a later success keeps the last error', async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        const [claimed] = await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        expect(
          await store.settleNotification(id, 'bot-a', {
            state: 'pending',
            nextAttemptAt: '2026-03-01T10:10:00.000Z',
            error: 'throttled (429)',
          }),
        ).toBe(true);
        expect(await current('r1')).toEqual({
          ...claimed,
          nextAttemptAt: '2026-03-01T10:10:00.000Z',
          lastError: 'throttled (429)',
          leaseOwner: null,
          leaseUntil: null,
        });
        // Its lease is gone, but it is not due before 10:10.
        expect(await store.claimNotifications('bot-b', '2026-03-01T10:09:59.999Z', minute, 10)).toEqual([]);
        expect(await store.claimNotifications('bot-b', '2026-03-01T10:10:00.000Z', minute, 10)).toEqual([
          {
            ...claimed,
            attempts: 2,
            nextAttemptAt: '2026-03-01T10:10:00.000Z',
            lastError: 'throttled (429)',
            leaseOwner: 'bot-b',
            leaseUntil: '2026-03-01T10:11:00.000Z',
          },
        ]);
        // bot-a's lease ended with its settlement.
        expect(await store.settleNotification(id, 'bot-a', { state: 'sent', at: '2026-03-01T10:10:01.000Z' })).toBe(false);
        expect(await store.settleNotification(id, 'bot-b', { state: 'sent', at: '2026-03-01T10:10:02.000Z' })).toBe(true);
        expect(await current('r1')).toMatchObject({
          state: 'sent',
          attempts: 2,
          lastError: 'throttled (429)',
          sentAt: '2026-03-01T10:10:02.000Z',
        });
      });

      it('settles nothing for an owner without the lease, an unclaimed notification or an unknown id', async () => {
        const { first, second } = await threeEnded();
        const sent: NotificationOutcome = { state: 'sent', at: '2026-03-01T10:00:01.000Z' };
        expect(await store.settleNotification(first.id, 'bot-a', sent)).toBe(false);
        await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 1);
        expect(await store.settleNotification(first.id, 'bot-b', sent)).toBe(false);
        expect(await store.settleNotification(second.id, 'bot-a', sent)).toBe(false);
        expect(await store.settleNotification('no-such-notification', 'bot-a', sent)).toBe(false);
        expect(await current('r-first')).toMatchObject({ state: 'pending', attempts: 1, leaseOwner: 'bot-a' });
        expect(await current('r-second')).toEqual(second);
      });

      it('refuses bad settlements with invalid, changing nothing and naming no value', async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        const [claimed] = await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        const bad: unknown[] = [
          { state: 'sent', at: '9434765919' },
          { state: 'undeliverable', at: '2026-03-01', error: 'gone' },
          { state: 'pending', nextAttemptAt: 'soon', error: 'busy' },
          { state: 'pending', nextAttemptAt: '2026-03-01T10:05:00.000Z' },
          { state: 'lost', at: '2026-03-01T10:00:01.000Z' },
          null,
        ];
        for (const outcome of bad) {
          const error = await expectStoreError(store.settleNotification(id, 'bot-a', outcome as NotificationOutcome), 'invalid');
          expect(error.message).not.toContain('9434765919');
        }
        await expectStoreError(store.settleNotification(id, '', { state: 'sent', at: '2026-03-01T10:00:01.000Z' }), 'invalid');
        expect(await current('r1')).toEqual(claimed);
      });

      it('hands out copies', async () => {
        await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        const [claimed] = await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        (claimed as { leaseOwner: string }).leaseOwner = 'bot-z';
        const [listed] = await store.notificationsFor('r1');
        (listed as { state: string }).state = 'sent';
        expect(await current('r1')).toMatchObject({ state: 'pending', leaseOwner: 'bot-a' });
      });

      it('times leases by leaseNow (the database clock) and due-ness by now (the caller clock)', async () => {
        const { first, third } = await threeEnded();
        // Due by the caller's clock at 09:15 (first and second, not third); the leases run from the database's 12:00.
        const claimed = await store.claimNotifications('bot-a', '2026-03-01T09:15:00.000Z', minute, 10, '2026-03-01T12:00:00.000Z');
        expect(claimed.map((n) => [n.retrievalId, n.leaseUntil])).toEqual([
          ['r-first', '2026-03-01T12:01:00.000Z'],
          ['r-second', '2026-03-01T12:01:00.000Z'],
        ]);
        // An instance whose own clock runs far ahead still finds the leases live by the database's clock.
        expect(
          (await store.claimNotifications('bot-b', '2026-03-01T15:00:00.000Z', minute, 10, '2026-03-01T12:00:59.999Z')).map((n) => n.id),
        ).toEqual([third.id]);
        const [again] = await store.claimNotifications('bot-b', '2026-03-01T09:15:00.000Z', minute, 10, '2026-03-01T12:01:00.000Z');
        expect(again).toMatchObject({ id: first.id, attempts: 2, leaseOwner: 'bot-b', leaseUntil: '2026-03-01T12:02:00.000Z' });
        await expectStoreError(store.claimNotifications('bot-a', '2026-03-01T09:15:00.000Z', minute, 10, 'later'), 'invalid');
      });

      it("renews only its holder's lease, from `now`, so no one claims it while a send is under way", async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        expect(await store.renewLease(id, 'bot-a', '2026-03-01T10:00:50.000Z', minute)).toBe(true);
        expect(await current('r1')).toMatchObject({ attempts: 1, leaseOwner: 'bot-a', leaseUntil: '2026-03-01T10:01:50.000Z' });
        // At the first lease's end the renewed one still holds.
        expect(await store.claimNotifications('bot-b', '2026-03-01T10:01:00.000Z', minute, 10)).toEqual([]);
        expect(await store.renewLease(id, 'bot-b', '2026-03-01T10:01:00.000Z', minute)).toBe(false);
        // Run out but claimed by no one since: still bot-a's to renew.
        expect(await store.renewLease(id, 'bot-a', '2026-03-01T10:05:00.000Z', minute)).toBe(true);
        // Once bot-b has claimed it (after it ran out), bot-a can neither renew nor settle it.
        const [taken] = await store.claimNotifications('bot-b', '2026-03-01T10:06:00.000Z', minute, 10);
        expect(taken).toMatchObject({ attempts: 2, leaseOwner: 'bot-b', leaseUntil: '2026-03-01T10:07:00.000Z' });
        expect(await store.renewLease(id, 'bot-a', '2026-03-01T10:06:01.000Z', minute)).toBe(false);
        expect(await current('r1')).toEqual(taken);
        // Settled or released: nothing left to renew.
        expect(await store.settleNotification(id, 'bot-b', { state: 'sent', at: '2026-03-01T10:06:02.000Z' })).toBe(true);
        expect(await store.renewLease(id, 'bot-b', '2026-03-01T10:06:03.000Z', minute)).toBe(false);
        expect(await current('r1')).toMatchObject({ state: 'sent', leaseOwner: null, leaseUntil: null });
        expect(await store.renewLease('no-such-notification', 'bot-a', '2026-03-01T10:06:03.000Z', minute)).toBe(false);
      });

      it("renews nothing once the holder's leases were released, and refuses bad arguments with invalid", async () => {
        const { id } = await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
        const [claimed] = await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', minute, 10);
        await expectStoreError(store.renewLease(id, '', '2026-03-01T10:00:01.000Z', minute), 'invalid');
        await expectStoreError(store.renewLease(id, 'bot-a', 'soon', minute), 'invalid');
        await expectStoreError(store.renewLease(id, 'bot-a', '2026-03-01T10:00:01.000Z', 0), 'invalid');
        await expectStoreError(store.renewLease(id, 'bot-a', '2026-03-01T10:00:01.000Z', 1.5), 'invalid');
        expect(await current('r1')).toEqual(claimed);
        expect(await store.releaseLeases('bot-a')).toBe(1);
        expect(await store.renewLease(id, 'bot-a', '2026-03-01T10:00:02.000Z', minute)).toBe(false);
        expect(await current('r1')).toMatchObject({ leaseOwner: null, leaseUntil: null });
      });

      it('gives each of 200 notifications to exactly one of 4 owners claiming at once', async () => {
        const ids = new Set<string>();
        for (let i = 0; i < 200; i++) {
          const at = `2026-03-01T09:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z`;
          ids.add((await endRetrieval(store, `r${i}`, `1.2.${i}`, i % 2 === 0 ? 'stored' : 'failed', at)).id);
        }
        expect(ids.size).toBe(200);
        const now = '2026-03-01T10:00:00.000Z';
        const drain = async (owner: string, limit: number): Promise<Notification[]> => {
          const mine: Notification[] = [];
          for (;;) {
            const batch = await store.claimNotifications(owner, now, 5 * minute, limit);
            if (batch.length === 0) return mine;
            mine.push(...batch);
            // Some owners send and settle as they go; the others keep their leases.
            if (limit % 2 === 1) {
              for (const n of batch) expect(await store.settleNotification(n.id, owner, { state: 'sent', at: now })).toBe(true);
            }
          }
        };
        const owners = ['bot-a', 'bot-b', 'bot-c', 'bot-d'];
        const results = await Promise.all(owners.map((owner, i) => drain(owner, i + 2)));
        const claimed = results.flat();
        expect(claimed).toHaveLength(200);
        expect(new Set(claimed.map((n) => n.id))).toEqual(ids);
        results.forEach((mine, i) => {
          for (const n of mine) expect(n).toMatchObject({ attempts: 1, leaseOwner: owners[i], state: 'pending' });
        });
        expect(await store.claimNotifications('bot-e', now, 5 * minute, 500)).toEqual([]);
      });
    });

    describe('instances: heartbeats and the clock', () => {
      const t = (seconds: number): string => new Date(Date.parse('2026-03-01T10:00:00.000Z') + seconds * 1000).toISOString();

      it('counts an owner silent once silentMs has passed since its last beat, and one that never beat', async () => {
        await store.heartbeat('bot-a', t(0));
        await store.heartbeat('bot-b', t(4));
        expect(await store.silentOwners(['bot-a', 'bot-b', 'bot-c'], t(4.999), 5_000)).toEqual(['bot-c']);
        expect(await store.silentOwners(['bot-c', 'bot-b', 'bot-a'], t(5), 5_000)).toEqual(['bot-c', 'bot-a']);
        // A later beat brings it back; a late-arriving older one does not move it back in time.
        await store.heartbeat('bot-a', t(6));
        await store.heartbeat('bot-a', t(1));
        expect(await store.silentOwners(['bot-a'], t(10.999), 5_000)).toEqual([]);
        expect(await store.silentOwners(['bot-a'], t(11), 5_000)).toEqual(['bot-a']);
        expect(await store.silentOwners([], t(11), 5_000)).toEqual([]);
      });

      it('tells owners apart by their whole id, never by a shared host name and pid', async () => {
        // Two containers of one image: the same host name and pid 1, different instance ids.
        await store.heartbeat('bot-host:1:aaaa', t(0));
        expect(await store.silentOwners(['bot-host:1:aaaa', 'bot-host:1:bbbb'], t(1), 5_000)).toEqual(['bot-host:1:bbbb']);
        await store.heartbeat('bot-host:1:bbbb', t(2));
        expect(await store.silentOwners(['bot-host:1:aaaa', 'bot-host:1:bbbb'], t(5), 5_000)).toEqual(['bot-host:1:aaaa']);
      });

      it('reads a retired owner as silent at once, and leaves the others', async () => {
        await store.heartbeat('bot-a', t(0));
        await store.heartbeat('bot-b', t(0));
        await store.retireOwner('bot-a');
        await store.retireOwner('never-beat');
        expect(await store.silentOwners(['bot-a', 'bot-b'], t(1), 5_000)).toEqual(['bot-a']);
      });

      it('refuses bad heartbeats and silence checks with invalid', async () => {
        await expectStoreError(store.heartbeat('', t(0)), 'invalid');
        await expectStoreError(store.heartbeat('x'.repeat(257), t(0)), 'invalid');
        await expectStoreError(store.heartbeat('bot-a', 'now'), 'invalid');
        await expectStoreError(store.silentOwners(['bot-a'], 'now', 5_000), 'invalid');
        await expectStoreError(store.silentOwners(['bot-a'], t(0), 0), 'invalid');
        await expectStoreError(store.silentOwners([42 as unknown as string], t(0), 5_000), 'invalid');
        await expectStoreError(store.retireOwner(''), 'invalid');
        expect(await store.silentOwners(['bot-a'], t(0), 5_000)).toEqual(['bot-a']);
      });

      it('answers its clock as an ISO instant that never goes back between two reads', async () => {
        const first = await store.clockNow();
        const second = await store.clockNow();
        expect(new Date(first).toISOString()).toBe(first);
        expect(Date.parse(second)).toBeGreaterThanOrEqual(Date.parse(first));
      });
    });

    describe('close', () => {
      it('makes later calls fail with unavailable, and may be called twice', async () => {
        await store.createRetrieval(newRetrieval('r1'));
        await store.close();
        await expectStoreError(store.getRetrieval('r1'), 'unavailable');
        await expectStoreError(store.createRetrieval(newRetrieval('r2', '1.9')), 'unavailable');
        await expectStoreError(store.appendAudit(auditEvent('2026-03-01T09:00:00.000Z')), 'unavailable');
        await expectStoreError(store.saveReference(storedReference()), 'unavailable');
        await expectStoreError(store.referenceFor(alice.teamsUserId, alice.conversationId), 'unavailable');
        await expectStoreError(store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', 1000, 1), 'unavailable');
        await expectStoreError(store.settleNotification('n1', 'bot-a', { state: 'sent', at: '2026-03-01T10:00:00.000Z' }), 'unavailable');
        await expectStoreError(store.notificationsFor('r1'), 'unavailable');
        await expectStoreError(
          store.claimActivity({ key: 'k', owner: 'bot-a', at: '2026-03-01T09:00:00.000Z', claimMs: 1000, keepMs: 1000 }),
          'unavailable',
        );
        await expectStoreError(store.finishActivity('k', 'bot-a'), 'unavailable');
        await expectStoreError(store.recordConfirmation({ entries: [], activity: null }), 'unavailable');
        await expectStoreError(store.countAudit(alice.teamsUserId, 'patient-search', '2026-03-01T09:00:00.000Z'), 'unavailable');
        await expectStoreError(store.renewLease('n1', 'bot-a', '2026-03-01T10:00:00.000Z', 1000), 'unavailable');
        await expectStoreError(store.heartbeat('bot-a', '2026-03-01T10:00:00.000Z'), 'unavailable');
        await expectStoreError(store.silentOwners(['bot-a'], '2026-03-01T10:00:00.000Z', 1000), 'unavailable');
        await expectStoreError(store.clockNow(), 'unavailable');
        await store.close();
      });
    });
  });
}
