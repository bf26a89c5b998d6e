/**
 * The Orthanc adapter against real Orthanc servers: LOCAL (UH Bristol) and three sites. EXETER holds
 * the test patient's studies; PLYMOUTH is hung and then stopped; CORNWALL's C-STOREs are refused by
 * LOCAL; EXETER_WRONG is Exeter's port under a called AET that Exeter rejects.
 */
import { createOrthancPacs } from '../../src/adapters/pacs/orthanc-pacs';
import type { PacsPort } from '../../src/ports/pacs-port';
import {
  expectReason,
  localCount,
  pacsFailure,
  pollUntil,
  unknownJobId,
  unknownStudyUid,
  waitForRetrieval,
} from '../contract/pacs-contract';
import { botUser, describeWithOrthanc, freePorts, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import {
  alice,
  carolNhsNumber,
  distractorStudy,
  exeterStudies,
  instanceCount,
  localStudies,
  plymouthStudy,
  seedStudies,
  testPatient,
  type SeedStudy,
} from '../support/orthanc-seed';

const cornwallStudy: SeedStudy = {
  patient: alice,
  uid: '2.25.94347659196',
  date: '20180506',
  time: '150000',
  accession: 'RCH18050601',
  description: 'XR Pelvis',
  modality: 'DX',
  bodyPart: 'PELVIS',
  institution: 'Royal Cornwall Hospital',
  series: [{ number: 1, description: 'AP', instances: 1 }],
};

const sites = [
  { site: 'exeter', modality: 'EXETER', nhsNumberAttribute: 'PatientID' },
  { site: 'plymouth', modality: 'PLYMOUTH', nhsNumberAttribute: 'PatientID' },
  { site: 'cornwall', modality: 'CORNWALL', nhsNumberAttribute: 'PatientID' },
  { site: 'south-devon', modality: 'EXETER_WRONG', nhsNumberAttribute: 'PatientID' },
  { site: 'dorset-county', modality: 'NOT_IN_ORTHANC', nhsNumberAttribute: 'PatientID' },
];

/** Nothing about the patient may appear in an error message. */
const identifiers = [testPatient.nhsNumber, testPatient.familyName, testPatient.givenName, alice.dicomBirthDate, testPatient.birthDate];

const summary = (s: SeedStudy): object => ({
  studyInstanceUid: s.uid,
  date: `${s.date.slice(0, 4)}-${s.date.slice(4, 6)}-${s.date.slice(6)}`,
  description: s.description,
  modalities: [s.modality],
  instanceCount: instanceCount(s),
  accessionNumber: s.accession,
});

async function elapsed<T>(call: () => Promise<T>): Promise<[T, number]> {
  const start = Date.now();
  const value = await call();
  return [value, Date.now() - start];
}

describeWithOrthanc('Orthanc PACS adapter against real Orthanc servers', () => {
  let lab: OrthancLab;
  let pacs: PacsPort;

  beforeAll(async () => {
    lab = await startOrthancLab({
      remotes: [
        { modality: 'EXETER', aet: 'EXETER_PACS' },
        { modality: 'PLYMOUTH', aet: 'PLYMOUTH_PACS' },
        { modality: 'CORNWALL', aet: 'CORNWALL_PACS', localAcceptsStore: false },
      ],
      aliases: [{ modality: 'EXETER_WRONG', aet: 'EXETER_WRONG', remote: 'EXETER' }],
    });
    await Promise.all([
      seedStudies(lab.remote('EXETER'), [...exeterStudies, distractorStudy]),
      seedStudies(lab.remote('PLYMOUTH'), [plymouthStudy]),
      seedStudies(lab.remote('CORNWALL'), [cornwallStudy]),
      seedStudies(lab.local, localStudies),
    ]);
    pacs = createOrthancPacs({ url: lab.local.url, ...botUser, localAet: lab.localAet, sites, requestTimeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  it('lists the configured sites', () => {
    expect(pacs.sites()).toEqual(['exeter', 'plymouth', 'cornwall', 'south-devon', 'dorset-county']);
  });

  it('finds the registered patient by NHS number with her identity and local study', async () => {
    const records = await pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: testPatient.nhsNumber });
    expect(records).toEqual([
      {
        identity: {
          nhsNumber: '9434765919',
          localId: '9434765919',
          familyName: 'TESTPATIENT',
          givenName: 'ALICE',
          birthDate: '1970-03-12',
          sex: 'F',
        },
        nhsNumberValues: ['9434765919'],
        studies: [summary(localStudies[0]!)],
      },
    ]);
  });

  it('finds a patient filed under a hospital number through OtherPatientIDs, and by forename despite a middle name', async () => {
    const byNhs = await pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: carolNhsNumber });
    expect(byNhs.map((r) => r.identity)).toEqual([
      { nhsNumber: carolNhsNumber, localId: 'H7654321', familyName: 'TESTPATIENT', givenName: 'CAROL', birthDate: '1980-01-01', sex: 'F' },
    ]);
    const byName = await pacs.findLocalPatients({
      kind: 'demographics',
      familyName: 'Testpatient',
      givenName: 'carol',
      birthDate: '1980-01-01',
    });
    expect(byName.map((r) => r.identity.localId)).toEqual(['H7654321']);
    // A prefix of the forename is not the forename, and wildcards typed by a user match nothing.
    expect(
      await pacs.findLocalPatients({ kind: 'demographics', familyName: 'TESTPATIENT', givenName: 'CARO', birthDate: '1980-01-01' }),
    ).toEqual([]);
    expect(await pacs.findLocalPatients({ kind: 'demographics', familyName: '*', givenName: '*', birthDate: '1980-01-01' })).toEqual([]);
    expect(await pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: '*' })).toEqual([]);
  });

  it("lists the patient's Exeter studies newest first, with dates, descriptions, modalities and counts", async () => {
    const studies = await pacs.queryRemoteStudies('exeter', testPatient.nhsNumber, 5_000);
    expect(studies).toEqual({ studies: exeterStudies.map(summary), withoutNhsNumber: 0 });
  });

  it('retrieves two studies at once and reports every job, and an unknown one, in one call', async () => {
    const [ct, mr] = [exeterStudies[1]!, exeterStudies[2]!];
    const jobs = await Promise.all([ct, mr].map((s) => pacs.startRetrieval('exeter', testPatient.nhsNumber, s.uid)));
    const states = await pollUntil(async () => {
      const now = await pacs.retrievalStates([...jobs, unknownJobId]);
      return jobs.every((id) => now.get(id)?.state === 'succeeded') ? now : undefined;
    });
    expect(states.get(unknownJobId)).toEqual({ state: 'unknown' });
    expect(await localCount(pacs, ct.uid)).toBe(5);
    expect(await localCount(pacs, mr.uid)).toBe(3);
    const [record] = await pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: testPatient.nhsNumber });
    expect(record?.studies).toEqual([ct, mr, localStudies[0]!].map(summary));
  }, 30_000);

  it('refuses to retrieve a study the site does not hold', async () => {
    expectReason(await pacsFailure(pacs.startRetrieval('exeter', testPatient.nhsNumber, unknownStudyUid)), 'not-found', identifiers);
    // The right study under another patient's NHS number is not found either.
    expectReason(
      await pacsFailure(pacs.startRetrieval('exeter', distractorStudy.patient.patientId, exeterStudies[0]!.uid)),
      'not-found',
      identifiers,
    );
  });

  it('calls a site Orthanc has no modality for, or that is not configured, an unknown site', async () => {
    const missing = await pacsFailure(pacs.queryRemoteStudies('dorset-county', testPatient.nhsNumber, 3_000));
    expectReason(missing, 'unknown-site', identifiers);
    expect(missing.site).toBe('dorset-county');
    expectReason(await pacsFailure(pacs.queryRemoteStudies('weston', testPatient.nhsNumber, 3_000)), 'unknown-site', identifiers);
  });

  it('reports a site that rejects our association (wrong called AET) as rejected', async () => {
    const error = await pacsFailure(pacs.queryRemoteStudies('south-devon', testPatient.nhsNumber, 3_000));
    expectReason(error, 'rejected', identifiers);
    expect(error.site).toBe('south-devon');
    expectReason(
      await pacsFailure(pacs.startRetrieval('south-devon', testPatient.nhsNumber, exeterStudies[0]!.uid)),
      'rejected',
      identifiers,
    );
  });

  it('ends a retrieval whose C-STOREs the local PACS refuses as failed, with nothing stored', async () => {
    const jobId = await pacs.startRetrieval('cornwall', testPatient.nhsNumber, cornwallStudy.uid);
    expect(await waitForRetrieval(pacs, jobId)).toEqual({ state: 'failed', reason: 'protocol' });
    expect(await localCount(pacs, cornwallStudy.uid)).toBe(0);
  }, 30_000);

  it('reports a hung site as timed out within the timeout plus a second or so, and works again once it resumes', async () => {
    const plymouth = lab.remote('PLYMOUTH');
    plymouth.pause();
    try {
      const [error, ms] = await elapsed(() => pacsFailure(pacs.queryRemoteStudies('plymouth', testPatient.nhsNumber, 3_000)));
      expectReason(error, 'timed-out', identifiers);
      expect(error.site).toBe('plymouth');
      expect(ms).toBeGreaterThanOrEqual(2_500);
      expect(ms).toBeLessThan(4_500);
    } finally {
      plymouth.resume();
    }
    expect(await pacs.queryRemoteStudies('plymouth', testPatient.nhsNumber, 5_000)).toEqual({
      studies: [summary(plymouthStudy)],
      withoutNhsNumber: 0,
    });
  }, 30_000);

  it('ends a retrieval whose site hangs mid-way as failed (timed out) once the retrieval timeout passes', async () => {
    const plymouth = lab.remote('PLYMOUTH');
    const impatient = createOrthancPacs({ url: lab.local.url, ...botUser, localAet: lab.localAet, sites, retrievalTimeoutMs: 2_000 });
    const jobId = await impatient.startRetrieval('plymouth', testPatient.nhsNumber, plymouthStudy.uid);
    // Orthanc needs about 0.3 s for even a tiny C-MOVE, so the site freezes inside the association.
    plymouth.pause();
    try {
      const [status, ms] = await elapsed(() => waitForRetrieval(impatient, jobId));
      expect(status).toEqual({ state: 'failed', reason: 'timed-out' });
      expect(ms).toBeLessThan(8_000);
    } finally {
      plymouth.resume();
    }
  }, 30_000);

  it('reports a stopped site as unreachable at once', async () => {
    await lab.remote('PLYMOUTH').stop();
    const [error, ms] = await elapsed(() => pacsFailure(pacs.queryRemoteStudies('plymouth', testPatient.nhsNumber, 3_000)));
    expectReason(error, 'unreachable', identifiers);
    expect(error.site).toBe('plymouth');
    expect(ms).toBeLessThan(1_000);
    expectReason(await pacsFailure(pacs.startRetrieval('plymouth', testPatient.nhsNumber, plymouthStudy.uid)), 'unreachable', identifiers);
  }, 30_000);

  it("reports UH Bristol's Orthanc down as unreachable, and wrong credentials as rejected, with no site", async () => {
    const [port] = await freePorts(1);
    const down = createOrthancPacs({ url: `http://127.0.0.1:${port}`, ...botUser, localAet: 'UHB_PACS', sites });
    const unreachable = await pacsFailure(down.queryRemoteStudies('exeter', testPatient.nhsNumber, 3_000));
    expectReason(unreachable, 'unreachable', identifiers);
    expect(unreachable.site).toBeNull();
    expectReason(
      await pacsFailure(down.findLocalPatients({ kind: 'nhs-number', nhsNumber: testPatient.nhsNumber })),
      'unreachable',
      identifiers,
    );

    const intruder = createOrthancPacs({ url: lab.local.url, username: botUser.username, password: 'wrong', localAet: 'UHB_PACS', sites });
    const rejected = await pacsFailure(intruder.retrievalStates([unknownJobId]));
    expectReason(rejected, 'rejected', identifiers);
    expect(rejected.site).toBeNull();
  });
});
