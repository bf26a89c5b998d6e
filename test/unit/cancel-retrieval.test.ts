/**
 * The cancel use case against the fake PACS and the in-memory store (the store contract checks the
 * real stores' compare-and-set): the race at the PACS (the job finishing between the check and the
 * cancel), cancels during the start of a retrieval or of a "Try again", a download another clinician
 * joined, and a retrieval of somebody else's.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { PacsError, type PacsCancelOutcome, type StudySummary } from '../../src/ports/pacs-port';
import type { Requester, StorePort } from '../../src/ports/store-port';
import { cancelRetrieval } from '../../src/retrieval/cancel-retrieval';
import { recordConfirmation, startConfirmed, startRecorded } from '../../src/retrieval/confirm-retrievals';
import { pollRetrievals } from '../../src/retrieval/poll-retrievals';
import type { RetrievalDeps } from '../../src/retrieval/retrieval-deps';
import { requestRetry, startRetry } from '../../src/retrieval/retry-retrieval';
import { createMemoryStore } from '../support/fakes/memory-store';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';
const now = new Date('2026-12-02T02:00:00.000Z');
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
const bob: Requester = { teamsUserId: '29:bob', entraObjectId: null, displayName: 'Dr Bob', tenantId: 't', conversationId: 'a:bob' };

/** A fake PACS whose hooks run inside its calls, to put another event at an exact point of the use case. */
class HookedPacs extends FakePacs {
  beforeCancel: (jobId: string) => void = () => undefined;
  duringStart: () => Promise<void> = () => Promise.resolve();
  startFails = false;

  override cancelRetrieval(jobId: string): Promise<PacsCancelOutcome> {
    this.beforeCancel(jobId);
    return super.cancelRetrieval(jobId);
  }

  override async startRetrieval(site: string, nhsNumber: string, uid: string): Promise<string> {
    await this.duringStart();
    if (this.startFails) throw new PacsError('unreachable', 'the site did not accept a connection', site);
    return super.startRetrieval(site, nhsNumber, uid);
  }
}

describe('cancelling a retrieval (use case)', () => {
  let pacs: HookedPacs;
  let store: StorePort;
  let deps: RetrievalDeps;
  let ids = 0;

  beforeEach(async () => {
    pacs = new HookedPacs({ local: [{ identity: fakeAlice, studies: [] }], sites: { exeter: { studies: { [nhs]: [study] } } } });
    store = createMemoryStore();
    await store.migrate();
    deps = { pacs, store, queryTimeoutMs: 1000 };
  });

  async function recorded(requester = alice) {
    const [pick] = await recordConfirmation(nhs, [{ site: 'exeter', study }], requester, deps, now, () => `r${++ids}`);
    return pick!;
  }

  async function started() {
    const pick = await recorded();
    await startRecorded([pick.retrieval!], deps, now);
    return (await store.getRetrieval(pick.retrieval!.id))!;
  }

  const cancelAudit = async () =>
    (await store.auditSince('2026-01-01T00:00:00Z')).filter((a) => a.action === 'retrieval-cancelled').map((a) => a.outcome);

  it('the job finishing at the PACS between the check and the cancel: one outcome (cancelled), the PACS says finished, nothing announced', async () => {
    const retrieval = await started();
    pacs.beforeCancel = (jobId) => pacs.completeJob(jobId);
    const outcome = await cancelRetrieval(retrieval.id, alice, deps, now);
    expect(outcome).toMatchObject({ kind: 'cancelled', pacs: 'finished' });
    expect(await pollRetrievals(deps, now)).toEqual([]);
    expect((await store.transitions(retrieval.id)).map((t) => t.to)).toEqual(['requested', 'retrieving', 'cancelled']);
    expect(await store.notificationsFor(retrieval.id)).toEqual([]);
    expect(await cancelAudit()).toEqual(['cancelled while downloading', 'PACS job: finished']);
  });

  it('cancelled before its start: nothing is started, and the start says cancelled', async () => {
    const pick = await recorded();
    expect(await cancelRetrieval(pick.retrieval!.id, alice, deps, now)).toMatchObject({ kind: 'cancelled', pacs: 'not-started' });
    const outcomes = await startConfirmed({ recorded: [pick], local: null }, deps, now);
    expect(outcomes.map((o) => o.outcome)).toEqual([{ kind: 'cancelled' }]);
    expect(pacs.requests.startRetrieval).toBe(0);
    expect(await store.getRetrieval(pick.retrieval!.id)).toMatchObject({ state: 'cancelled', pacsJobId: null });
  });

  it('cancelled while the PACS starts it: the job just started is stopped, and that is audited', async () => {
    const pick = await recorded();
    pacs.duringStart = async () => {
      pacs.duringStart = () => Promise.resolve();
      await cancelRetrieval(pick.retrieval!.id, alice, deps, now);
    };
    const outcomes = await startRecorded([pick.retrieval!], deps, now);
    expect(outcomes.get(pick.retrieval!.id)).toEqual({ kind: 'cancelled' });
    const [job] = pacs.jobIds();
    expect((await pacs.retrievalStates([job!])).get(job!)?.state).toBe('failed');
    expect(await cancelAudit()).toEqual([
      'cancelled while downloading',
      'PACS job: not-started',
      'PACS job started after the cancel: cancelled',
    ]);
    expect(await store.notificationsFor(pick.retrieval!.id)).toEqual([]);
  });

  it('cancelled while a start that then fails was under way: its one outcome is cancelled, with no failure audited or announced', async () => {
    const pick = await recorded();
    pacs.startFails = true;
    pacs.duringStart = async () => {
      pacs.duringStart = () => Promise.resolve();
      await cancelRetrieval(pick.retrieval!.id, alice, deps, now);
    };
    const outcomes = await startRecorded([pick.retrieval!], deps, now);
    expect(outcomes.get(pick.retrieval!.id)).toEqual({ kind: 'cancelled' });
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.filter((a) => a.action === 'retrieval-outcome')).toEqual([]);
    expect(await store.notificationsFor(pick.retrieval!.id)).toEqual([]);
  });

  it('a "Try again" cancelled before or while it starts says cancelled, not failed', async () => {
    const retrieval = await started();
    pacs.failJob(retrieval.pacsJobId!);
    await pollRetrievals(deps, now);
    const retry = await requestRetry(retrieval.id, alice, deps, now);
    if (retry.kind !== 'requested') throw new Error('expected the retry to be recorded');
    await cancelRetrieval(retrieval.id, alice, deps, now);
    expect(await startRetry(retry.retrieval, alice, deps, now)).toEqual({ kind: 'cancelled' });
    expect(pacs.requests.startRetrieval).toBe(1);
  });

  it('does not cancel a download another clinician joined (their confirmation started nothing of its own)', async () => {
    const retrieval = await started();
    const joined = await recorded(bob);
    expect(joined).toMatchObject({ created: false, retrieval: { id: retrieval.id } });
    expect(await cancelRetrieval(retrieval.id, alice, deps, now)).toMatchObject({ kind: 'shared' });
    expect(await store.getRetrieval(retrieval.id)).toMatchObject({ state: 'retrieving' });
    expect(pacs.requests.cancelRetrieval).toBe(0);
  });

  it("does not cancel somebody else's retrieval, and changes nothing", async () => {
    const retrieval = await started();
    expect(await cancelRetrieval(retrieval.id, bob, deps, now)).toEqual({ kind: 'gone' });
    expect(await cancelRetrieval('no-such-id', alice, deps, now)).toEqual({ kind: 'gone' });
    expect(await store.getRetrieval(retrieval.id)).toMatchObject({ state: 'retrieving' });
    expect(await cancelAudit()).toEqual([]);
  });

  it('says UH Bristol PACS did not answer when it cannot be asked, and the cancel stands', async () => {
    const retrieval = await started();
    pacs.reachable = false;
    expect(await cancelRetrieval(retrieval.id, alice, deps, now)).toMatchObject({ kind: 'cancelled', pacs: 'unanswered' });
    expect(await store.getRetrieval(retrieval.id)).toMatchObject({ state: 'cancelled' });
  });
});
