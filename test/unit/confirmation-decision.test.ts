/**
 * A confirmation card's one decision (decideConfirmation), against the in-memory store (the store
 * contract checks the real stores' claims): the first press of Confirm or Cancel stands; a Confirm's
 * claim is marked done with the confirmation itself; a Confirm that never recorded leaves the card to
 * a Cancel once its hold has passed; a card cancelled under the release before is honoured.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import type { StudySummary } from '../../src/ports/pacs-port';
import type { Requester, StorePort } from '../../src/ports/store-port';
import { cancelConfirmation, decideConfirmation, recordConfirmation } from '../../src/retrieval/confirm-retrievals';
import type { RetrievalDeps } from '../../src/retrieval/retrieval-deps';
import { createMemoryStore } from '../support/fakes/memory-store';

const nhs = '9434765919';
const at = (minutes: number): Date => new Date(Date.parse('2026-12-02T02:00:00.000Z') + minutes * 60_000);
const study: StudySummary = {
  studyInstanceUid: '2.25.1',
  date: '2024-03-12',
  description: 'XR Chest',
  modalities: ['DX'],
  instanceCount: 2,
};
const alice: Requester = {
  teamsUserId: '29:alice',
  entraObjectId: null,
  displayName: 'Dr Alice',
  tenantId: 't',
  conversationId: 'a:alice',
};
const offer = { id: 'card-1', nhsNumber: nhs, studies: [{ site: 'exeter', study }], expires: at(30).toISOString() };

describe("a confirmation card's decision", () => {
  let store: StorePort;
  let deps: RetrievalDeps;

  beforeEach(async () => {
    store = createMemoryStore();
    await store.migrate();
    deps = { pacs: new FakePacs({ local: [], sites: {} }), store, queryTimeoutMs: 1000 };
  });

  const record = (claim: Awaited<ReturnType<typeof decideConfirmation>>['claim']) =>
    recordConfirmation(nhs, offer.studies, alice, deps, at(0), () => 'r1', { decision: claim });

  it('Confirm first: it stands (marked done with the confirmation), and a later Cancel is told so and audits nothing', async () => {
    const confirmed = await decideConfirmation(offer, 'confirmed', deps, at(0));
    expect(confirmed).toEqual({ decision: 'confirmed', claim: { key: 'confirmation-decision:card-1', owner: 'confirmed' } });
    // Before it is recorded, a Cancel already finds the card confirmed.
    expect(await cancelConfirmation(offer, alice, deps, at(0))).toBe('confirmed');
    await record(confirmed.claim);
    expect(await store.activityFor('confirmation-decision:card-1')).toMatchObject({ state: 'done', owner: 'confirmed' });
    expect(await cancelConfirmation(offer, alice, deps, at(10))).toBe('confirmed');
    expect((await store.auditSince('2026-01-01T00:00:00Z')).filter((a) => a.action === 'retrieval-cancelled')).toEqual([]);
  });

  it('Cancel first: it stands, and a later Confirm is refused', async () => {
    expect(await cancelConfirmation(offer, alice, deps, at(0))).toBe('cancelled');
    expect(await decideConfirmation(offer, 'confirmed', deps, at(1))).toEqual({ decision: 'cancelled', claim: null });
    expect((await store.auditSince('2026-01-01T00:00:00Z')).map((a) => a.outcome)).toEqual(['cancelled before confirming']);
  });

  it('a Confirm pressed again while the first holds the card goes on with the same claim, and either may record it', async () => {
    const first = await decideConfirmation(offer, 'confirmed', deps, at(0));
    const second = await decideConfirmation(offer, 'confirmed', deps, at(0));
    expect(second).toEqual(first);
    await record(second.claim);
    expect(await store.activityFor('confirmation-decision:card-1')).toMatchObject({ state: 'done', owner: 'confirmed' });
  });

  it('a Confirm that never recorded (it failed or its process died) leaves the card to a Cancel once its hold has passed', async () => {
    await decideConfirmation(offer, 'confirmed', deps, at(0));
    expect(await cancelConfirmation(offer, alice, deps, at(1))).toBe('confirmed');
    expect(await cancelConfirmation(offer, alice, deps, at(3))).toBe('cancelled');
    expect(await decideConfirmation(offer, 'confirmed', deps, at(4))).toEqual({ decision: 'cancelled', claim: null });
  });

  it('honours a card cancelled under the release before (its mark), and lets a card without an id be pressed as before', async () => {
    await store.claimActivity({
      key: 'confirmation-cancelled:card-1',
      owner: 'cancel',
      at: at(0).toISOString(),
      claimMs: 60_000,
      keepMs: 3_600_000,
    });
    expect((await decideConfirmation(offer, 'confirmed', deps, at(1))).decision).toBe('cancelled');
    const withoutId = { nhsNumber: offer.nhsNumber, studies: offer.studies, expires: offer.expires };
    expect(await decideConfirmation(withoutId, 'confirmed', deps, at(1))).toEqual({ decision: 'confirmed', claim: null });
  });
});
