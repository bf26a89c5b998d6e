/**
 * Positive identification and retrievals that end, through the retrieval use cases against real
 * Orthanc servers (UH Bristol and Exeter): a record filed under a 10-digit hospital number is searched
 * by the NHS number it holds in OtherPatientIDs, and only that number goes to the peer; a record that
 * holds a second valid NHS number is refused; a job Orthanc no longer knows, whose study never
 * arrived, fails once its attempt has run 30 minutes by the injected clock; a "Try again" pressed 45
 * minutes after the first Confirm is a new attempt with a whole timeout of its own.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOrthancPacs } from '../../src/adapters/pacs/orthanc-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { PacsPort } from '../../src/ports/pacs-port';
import type { Requester, StorePort } from '../../src/ports/store-port';
import { recordConfirmation } from '../../src/retrieval/confirm-retrievals';
import { findPatientImages } from '../../src/retrieval/find-patient-images';
import { pollRetrievals } from '../../src/retrieval/poll-retrievals';
import type { RetrievalDeps } from '../../src/retrieval/retrieval-deps';
import { requestRetry, startRetry } from '../../src/retrieval/retry-retrieval';
import { botUser, describeWithOrthanc, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { seedStudies, type SeedPatient, type SeedStudy } from '../support/orthanc-seed';

/** Searched for: a valid NHS number, kept at UH Bristol among OtherPatientIDs. */
const searched = '9990001006';
/** A hospital number that has ten digits but fails Modulus 11: not an NHS number. */
const hospitalNumber = '1234567890';

const dave: SeedPatient = {
  patientId: hospitalNumber,
  dicomName: 'TESTPATIENT^DAVE',
  dicomBirthDate: '19600101',
  sex: 'M',
  otherPatientIds: searched,
};
/** Someone else at Exeter, filed there under the same ten digits as Dave's hospital number. */
const stranger: SeedPatient = { patientId: hospitalNumber, dicomName: 'OTHERPERSON^EVE', dicomBirthDate: '19900505', sex: 'F' };
/** Dave at Exeter, filed by his NHS number. */
const daveAtExeter: SeedPatient = { ...dave, patientId: searched, otherPatientIds: undefined };
/** A UH Bristol record holding two valid NHS numbers (PatientID and OtherPatientIDs). */
const muddled: SeedPatient = {
  patientId: '9990001014',
  dicomName: 'TESTPATIENT^FRAN',
  dicomBirthDate: '19750202',
  sex: 'F',
  otherPatientIds: '9990001022',
};

function study(patient: SeedPatient, uid: string, description: string, institution: string): SeedStudy {
  return {
    patient,
    uid,
    date: '20250101',
    time: '120000',
    accession: `ACC${uid.slice(-6)}`,
    description,
    modality: 'CT',
    bodyPart: 'HEAD',
    institution,
    series: [{ number: 1, description: 'Axial', instances: 1 }],
  };
}

/**
 * A loopback pass-through to an Orthanc REST API that calls `freeze` just before forwarding the first
 * "retrieve" request (the C-MOVE), so a test can hold the peer still at exactly that moment.
 */
async function freezingProxy(
  target: string,
  freeze: () => void,
): Promise<{ url: string; froze: () => boolean; close: () => Promise<void> }> {
  let frozen = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (!frozen && req.method === 'POST' && /^\/queries\/[^/]+\/answers\/\d+\/retrieve$/.test(req.url ?? '')) {
        frozen = true;
        freeze();
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
      ) as Record<string, string>;
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(new URL(req.url ?? '/', target), { method: req.method, headers, ...(body ? { body } : {}) })
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    froze: () => frozen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const requester: Requester = {
  teamsUserId: '29:user-1',
  entraObjectId: null,
  displayName: 'Test Clinician',
  tenantId: 'tenant-1',
  conversationId: 'a:chat',
};
const t0 = new Date('2026-12-02T02:00:00.000Z');
const minutes = (n: number): Date => new Date(t0.getTime() + n * 60_000);

describeWithOrthanc('Identity and retrievals that end, against real Orthanc', () => {
  let lab: OrthancLab;
  let pacs: PacsPort;
  let store: StorePort;
  let deps: RetrievalDeps;

  beforeAll(async () => {
    lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }] });
    await Promise.all([
      seedStudies(lab.local, [
        study(dave, '2.25.77001', 'XR Chest', 'Bristol Royal Infirmary'),
        study(muddled, '2.25.77002', 'XR Knee', 'Bristol Royal Infirmary'),
      ]),
      seedStudies(lab.remote('EXETER'), [
        study(daveAtExeter, '2.25.77011', 'CT Head', 'Royal Devon and Exeter Hospital'),
        study(stranger, '2.25.77012', 'CT Abdomen', 'Royal Devon and Exeter Hospital'),
      ]),
    ]);
    pacs = createOrthancPacs({
      url: lab.local.url,
      ...botUser,
      localAet: lab.localAet,
      sites: [{ site: 'exeter', modality: 'EXETER', nhsNumberAttribute: 'PatientID' }],
      requestTimeoutMs: 10_000,
    });
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  beforeEach(() => {
    store = createMemoryStore();
    deps = { pacs, store, queryTimeoutMs: 5_000, jobTimeoutMs: 30 * 60_000 };
  });

  it('identifies a record filed under a 10-digit hospital number by the NHS number searched, and asks the peer for that number only', async () => {
    const outcome = await findPatientImages({ kind: 'nhs-number', nhsNumber: searched }, requester, deps, t0);
    expect(outcome.kind).toBe('found');
    if (outcome.kind !== 'found') return;
    expect(outcome.patient.identity).toMatchObject({ nhsNumber: searched, localId: hospitalNumber });
    // Dave's CT Head, filed at Exeter by his NHS number; never the stranger's study under the ten digits.
    expect(outcome.studies.map((s) => s.studyInstanceUid)).toEqual(['2.25.77011']);
    const [audit] = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit).toMatchObject({ nhsNumber: searched, studies: ['2.25.77011'] });
  });

  it('refuses a record that holds a second valid NHS number, and asks no peer', async () => {
    let asked = 0;
    deps = {
      ...deps,
      pacs: { ...pacs, sites: () => pacs.sites(), queryRemoteStudies: (...args) => ((asked += 1), pacs.queryRemoteStudies(...args)) },
    };
    for (const nhsNumber of ['9990001022', '9990001014']) {
      expect(await findPatientImages({ kind: 'nhs-number', nhsNumber }, requester, deps, t0)).toEqual({ kind: 'nhs-number-conflict' });
    }
    expect(
      await findPatientImages(
        { kind: 'demographics', familyName: 'TESTPATIENT', givenName: 'FRAN', birthDate: '1975-02-02' },
        requester,
        deps,
        t0,
      ),
    ).toEqual({
      kind: 'nhs-number-conflict',
    });
    const audits = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audits.map((a) => a.outcome)).toEqual(['nhs-number-conflict: 2', 'nhs-number-conflict: 2', 'nhs-number-conflict: 2']);
    expect(asked).toBe(0);
  });

  it('finds the one valid NHS number of a record searched by name and date of birth, not its hospital number', async () => {
    const outcome = await findPatientImages(
      { kind: 'demographics', familyName: 'TESTPATIENT', givenName: 'DAVE', birthDate: '1960-01-01' },
      requester,
      deps,
      t0,
    );
    expect(outcome).toMatchObject({ kind: 'found', patient: { identity: { nhsNumber: searched } } });
  });

  it('fails a retrieval whose job Orthanc no longer knows and whose study never arrived, 30 minutes into its attempt', async () => {
    const [picked] = await recordConfirmation(
      searched,
      [
        {
          site: 'exeter',
          study: { studyInstanceUid: '2.25.77011', date: '2025-01-01', description: 'CT Head', modalities: ['CT'], instanceCount: 1 },
        },
      ],
      requester,
      deps,
      t0,
      () => 'r-forgotten',
    );
    // Started as a job that Orthanc has since forgotten (deleted, or lost in a restart): /jobs does not list it.
    expect(
      await store.transition(picked!.retrieval!.id, ['requested'], 'retrieving', t0.toISOString(), {
        pacsJobId: 'c0ffee00-0000-4000-8000-000000000000',
      }),
    ).not.toBeNull();
    expect((await pacs.retrievalStates(['c0ffee00-0000-4000-8000-000000000000'])).get('c0ffee00-0000-4000-8000-000000000000')).toEqual({
      state: 'unknown',
    });
    expect(await pollRetrievals(deps, minutes(29))).toEqual([]);
    expect(await store.getRetrieval('r-forgotten')).toMatchObject({ state: 'retrieving' });
    const [settled] = await pollRetrievals(deps, minutes(31));
    expect(settled?.retrieval).toMatchObject({ id: 'r-forgotten', state: 'failed', failureReason: 'timed-out' });
    expect((await store.notificationsFor('r-forgotten')).map((n) => n.kind)).toEqual(['failed']);
  });

  it('gives a Try again pressed 45 minutes after the first Confirm a whole attempt of its own: its real C-MOVE is not timed out by the first', async () => {
    const ctHead = { studyInstanceUid: '2.25.77011', date: '2025-01-01', description: 'CT Head', modalities: ['CT'], instanceCount: 1 };
    const [picked] = await recordConfirmation(searched, [{ site: 'exeter', study: ctHead }], requester, deps, t0, () => 'r-retried');
    // The first attempt: a job Orthanc forgot, failed 31 minutes in.
    await store.transition(picked!.retrieval!.id, ['requested'], 'retrieving', t0.toISOString(), {
      pacsJobId: 'c0ffee00-0000-4000-8000-000000000001',
    });
    expect((await pollRetrievals(deps, minutes(31))).map((s) => s.retrieval.failureReason)).toEqual(['timed-out']);

    // Try again at +45 minutes. Exeter freezes the moment UH Bristol's Orthanc is asked to retrieve (after
    // the C-FIND), so the real C-MOVE is still running at the next poll.
    const exeter = lab.remote('EXETER');
    const proxy = await freezingProxy(lab.local.url, () => exeter.pause());
    const viaProxy = createOrthancPacs({
      url: proxy.url,
      ...botUser,
      localAet: lab.localAet,
      sites: [{ site: 'exeter', modality: 'EXETER', nhsNumberAttribute: 'PatientID' }],
      requestTimeoutMs: 10_000,
    });
    try {
      const requested = await requestRetry('r-retried', requester, deps, minutes(45));
      expect(requested.kind).toBe('requested');
      if (requested.kind !== 'requested') return;
      expect(await startRetry(requested.retrieval, requester, { ...deps, pacs: viaProxy }, minutes(45))).toMatchObject({
        kind: 'started',
        retrieval: { state: 'retrieving' },
      });
      expect(proxy.froze()).toBe(true);
      // 46 minutes after the first Confirm, one minute into this attempt: still downloading, not timed out.
      expect(await pollRetrievals(deps, minutes(46))).toEqual([]);
      expect(await store.getRetrieval('r-retried')).toMatchObject({ state: 'retrieving', failureReason: null });
    } finally {
      exeter.resume();
      await proxy.close();
    }
    let settled: Awaited<ReturnType<typeof pollRetrievals>> = [];
    for (let i = 0; i < 100 && settled.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      settled = await pollRetrievals(deps, minutes(47));
    }
    expect(settled.map((s) => s.retrieval)).toEqual([expect.objectContaining({ id: 'r-retried', state: 'stored' })]);
    expect((await store.notificationsFor('r-retried')).map((n) => n.kind)).toEqual(['failed', 'stored']);
  }, 30_000);
});
