/**
 * The contract every PacsPort adapter satisfies (orthanc, demo, the test fake): the same cases run
 * against each, from a fixture the adapter's test file provides.
 */
import {
  PacsError,
  type PacsErrorReason,
  type PacsJobStatus,
  type PacsPort,
  type SiteId,
  type StudySummary,
} from '../../src/ports/pacs-port';

/** What an adapter's test file hands the contract. */
export interface PacsContractFixture {
  readonly pacs: PacsPort;
  /** A patient registered on the local PACS (under this NHS number, name and date of birth). */
  readonly patient: { readonly nhsNumber: string; readonly familyName: string; readonly givenName: string; readonly birthDate: string };
  /** A configured site that holds studies for the patient. */
  readonly siteWithStudies: SiteId;
  /** Every study the patient has at siteWithStudies; none of them is on the local PACS at the start. */
  readonly remoteStudyUids: readonly string[];
  /** A valid NHS number held nowhere: not on the local PACS, not at siteWithStudies. */
  readonly unregisteredNhsNumber: string;
  /**
   * Called before each poll of a retrieval job (default: wait 100 ms). A fake or demo adapter can move
   * the job on here (advance its clock) instead of waiting.
   */
  readonly waitForJob?: (jobId: string) => Promise<void>;
  /**
   * Holds the link the next retrievals' transfers go through (a real lab: a gate on the remote's
   * C-STOREs to LOCAL), so a retrieval stays in flight until released.
   */
  readonly holdTransfers: () => Promise<TransferHold>;
}

/** A held link: `stalled` resolves once a transfer waits at it; `release` lets every transfer go on. */
export interface TransferHold {
  stalled(): Promise<void>;
  release(): Promise<void>;
}

/** A StudyInstanceUID no fixture holds. */
export const unknownStudyUid = '2.25.999999999999999999';
/** A job id no adapter has issued. */
export const unknownJobId = '00000000-dead-beef-0000-000000000000';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined, every `intervalMs`, for at most
 * `timeoutMs`; `wait` replaces the sleep between polls when given.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  { intervalMs = 100, timeoutMs = 20_000, wait }: { intervalMs?: number; timeoutMs?: number; wait?: () => Promise<void> } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const attempts = Math.ceil(timeoutMs / intervalMs);
  for (let i = 0; i <= attempts && Date.now() <= deadline; i += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await (wait ? wait() : sleep(intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Polls a retrieval job until it finishes (succeeded or failed); the last status seen. */
export async function waitForRetrieval(
  pacs: PacsPort,
  jobId: string,
  options: { timeoutMs?: number; waitForJob?: (jobId: string) => Promise<void> } = {},
): Promise<PacsJobStatus> {
  const wait = options.waitForJob;
  return pollUntil(
    async () => {
      const status = (await pacs.retrievalStates([jobId])).get(jobId);
      return status && (status.state === 'succeeded' || status.state === 'failed') ? status : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 20_000, wait: wait ? () => wait(jobId) : undefined },
  );
}

/** How many instances of one study the local PACS holds, through the batched call. */
export async function localCount(pacs: PacsPort, studyInstanceUid: string): Promise<number | undefined> {
  return (await pacs.localInstanceCounts([studyInstanceUid])).get(studyInstanceUid);
}

/** The PacsError a call rejected with; fails the test if it resolved or threw something else. */
export async function pacsFailure(call: Promise<unknown>): Promise<PacsError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof PacsError) return error;
    throw error;
  }
  throw new Error('expected the call to reject with a PacsError');
}

/** Asserts a PacsError's reason and that its message carries no patient identifier. */
export function expectReason(error: PacsError, reason: PacsErrorReason, identifiers: readonly string[]): void {
  expect(error.reason).toBe(reason);
  expect(error.name).toBe('PacsError');
  expect(error.message.length).toBeGreaterThan(0);
  for (const identifier of identifiers) expect(error.message.toLowerCase()).not.toContain(identifier.toLowerCase());
}

/** The contract suite for one adapter. */
export function pacsContract(name: string, setup: () => Promise<PacsContractFixture>, teardown?: () => Promise<void>): void {
  describe(`PacsPort contract: ${name}`, () => {
    let fixture: PacsContractFixture;
    let identifiers: string[];

    beforeAll(async () => {
      fixture = await setup();
      const p = fixture.patient;
      identifiers = [p.nhsNumber, p.familyName, p.givenName, p.birthDate, p.birthDate.replace(/-/g, ''), fixture.unregisteredNhsNumber];
    }, 60_000);

    afterAll(async () => {
      await teardown?.();
    }, 60_000);

    const sameName = (a: string, b: string): boolean => a.toUpperCase() === b.toUpperCase();

    function expectPatient(records: Awaited<ReturnType<PacsPort['findLocalPatients']>>): void {
      const p = fixture.patient;
      const found = records.filter((r) => r.identity.nhsNumber === p.nhsNumber);
      expect(found).toHaveLength(1);
      const identity = found[0]!.identity;
      expect(sameName(identity.familyName, p.familyName)).toBe(true);
      expect(sameName(identity.givenName, p.givenName)).toBe(true);
      expect(identity.birthDate).toBe(p.birthDate);
      expect(identity.localId.length).toBeGreaterThan(0);
    }

    it('lists the site with studies among its sites', () => {
      expect(fixture.pacs.sites()).toContain(fixture.siteWithStudies);
    });

    it('finds the local patient by NHS number', async () => {
      expectPatient(await fixture.pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: fixture.patient.nhsNumber }));
    });

    it('finds the local patient by surname, forename and date of birth, ignoring letter case', async () => {
      const p = fixture.patient;
      expectPatient(
        await fixture.pacs.findLocalPatients({
          kind: 'demographics',
          familyName: p.familyName,
          givenName: p.givenName,
          birthDate: p.birthDate,
        }),
      );
      expectPatient(
        await fixture.pacs.findLocalPatients({
          kind: 'demographics',
          familyName: p.familyName.toLowerCase(),
          givenName: p.givenName.toLowerCase(),
          birthDate: p.birthDate,
        }),
      );
    });

    it('finds nobody for an unknown NHS number or a wrong date of birth', async () => {
      const p = fixture.patient;
      expect(await fixture.pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: fixture.unregisteredNhsNumber })).toEqual([]);
      const otherYear = `${Number(p.birthDate.slice(0, 4)) - 1}${p.birthDate.slice(4)}`;
      expect(
        await fixture.pacs.findLocalPatients({
          kind: 'demographics',
          familyName: p.familyName,
          givenName: p.givenName,
          birthDate: otherYear,
        }),
      ).toEqual([]);
    });

    it("lists the patient's studies at the site, newest first, with date, description, modalities and count", async () => {
      const { studies } = await fixture.pacs.queryRemoteStudies(fixture.siteWithStudies, fixture.patient.nhsNumber, 10_000);
      expect(studies.map((s) => s.studyInstanceUid).sort()).toEqual([...fixture.remoteStudyUids].sort());
      for (const study of studies) {
        expect(study.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(study.description.length).toBeGreaterThan(0);
        expect(study.modalities.length).toBeGreaterThan(0);
        expect(study.instanceCount).toBeGreaterThan(0);
      }
      const dates = studies.map((s) => s.date ?? '');
      expect(dates).toEqual([...dates].sort().reverse());
    });

    it('lists no studies at the site for a patient it does not hold', async () => {
      expect(await fixture.pacs.queryRemoteStudies(fixture.siteWithStudies, fixture.unregisteredNhsNumber, 10_000)).toEqual({
        studies: [],
        withoutNhsNumber: 0,
      });
    });

    it('answers ping while UH Bristol PACS is up', async () => {
      await expect(fixture.pacs.ping()).resolves.toBeUndefined();
    });

    it('refuses a site it is not configured for', async () => {
      const site = 'no-such-site';
      expectReason(
        await pacsFailure(fixture.pacs.queryRemoteStudies(site, fixture.patient.nhsNumber, 10_000)),
        'unknown-site',
        identifiers,
      );
      expectReason(
        await pacsFailure(fixture.pacs.startRetrieval(site, fixture.patient.nhsNumber, fixture.remoteStudyUids[0]!)),
        'unknown-site',
        identifiers,
      );
    });

    it('retrieves a study into the local PACS: the job succeeds and every instance arrives', async () => {
      const { studies } = await fixture.pacs.queryRemoteStudies(fixture.siteWithStudies, fixture.patient.nhsNumber, 10_000);
      // The smallest study keeps the contract quick on a real PACS.
      const study: StudySummary = [...studies].sort((a, b) => (a.instanceCount ?? 0) - (b.instanceCount ?? 0))[0]!;
      expect(await localCount(fixture.pacs, study.studyInstanceUid)).toBe(0);

      const jobId = await fixture.pacs.startRetrieval(fixture.siteWithStudies, fixture.patient.nhsNumber, study.studyInstanceUid);
      expect(jobId.length).toBeGreaterThan(0);
      const first = (await fixture.pacs.retrievalStates([jobId])).get(jobId);
      expect(['pending', 'running', 'succeeded']).toContain(first?.state);

      const final = await waitForRetrieval(fixture.pacs, jobId, { waitForJob: fixture.waitForJob });
      expect(final).toEqual({ state: 'succeeded' });
      expect(await localCount(fixture.pacs, study.studyInstanceUid)).toBe(study.instanceCount);
      // Too late to cancel: the job is said to have finished, and the study stays.
      expect(await fixture.pacs.cancelRetrieval(jobId)).toBe('finished');
      expect(await localCount(fixture.pacs, study.studyInstanceUid)).toBe(study.instanceCount);
      // Many studies in one call: the retrieved one, one never retrieved, an unknown one, and a non-UID.
      const other = studies.find((s) => s.studyInstanceUid !== study.studyInstanceUid)!;
      const counts = await fixture.pacs.localInstanceCounts([study.studyInstanceUid, other.studyInstanceUid, unknownStudyUid, '*']);
      expect(Object.fromEntries(counts)).toEqual({
        [study.studyInstanceUid]: study.instanceCount,
        [other.studyInstanceUid]: 0,
        [unknownStudyUid]: 0,
        '*': 0,
      });

      const local = await fixture.pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: fixture.patient.nhsNumber });
      expect(local.flatMap((r) => r.studies.map((s) => s.studyInstanceUid))).toContain(study.studyInstanceUid);
    }, 30_000);

    it('reports a job it does not know as unknown, and answers an empty list with an empty map', async () => {
      const states = await fixture.pacs.retrievalStates([unknownJobId]);
      expect(states.get(unknownJobId)).toEqual({ state: 'unknown' });
      expect((await fixture.pacs.retrievalStates([])).size).toBe(0);
      expect(await fixture.pacs.cancelRetrieval(unknownJobId)).toBe('unknown');
    });

    it('says stopping to a cancel of a transfer under way, which it cannot interrupt: once the link goes on, the study arrives', async () => {
      const { studies } = await fixture.pacs.queryRemoteStudies(fixture.siteWithStudies, fixture.patient.nhsNumber, 10_000);
      const study: StudySummary = [...studies].sort((a, b) => (b.instanceCount ?? 0) - (a.instanceCount ?? 0))[0]!;
      expect(await localCount(fixture.pacs, study.studyInstanceUid)).toBe(0);
      const hold = await fixture.holdTransfers();
      let released = false;
      try {
        const jobId = await fixture.pacs.startRetrieval(fixture.siteWithStudies, fixture.patient.nhsNumber, study.studyInstanceUid);
        await hold.stalled();
        expect(await fixture.pacs.cancelRetrieval(jobId)).toBe('stopping');
        expect(['pending', 'running']).toContain((await fixture.pacs.retrievalStates([jobId])).get(jobId)?.state);
        await hold.release();
        released = true;
        // Measured on Orthanc 1.10: the cancel does not stop a C-MOVE once its transfer has begun.
        expect(await waitForRetrieval(fixture.pacs, jobId, { waitForJob: fixture.waitForJob })).toEqual({ state: 'succeeded' });
        expect(await localCount(fixture.pacs, study.studyInstanceUid)).toBe(study.instanceCount);
        expect(await fixture.pacs.cancelRetrieval(jobId)).toBe('finished');
      } finally {
        if (!released) await hold.release();
      }
    }, 30_000);

    it('refuses to retrieve a study the site does not hold', async () => {
      const error = await pacsFailure(fixture.pacs.startRetrieval(fixture.siteWithStudies, fixture.patient.nhsNumber, unknownStudyUid));
      expectReason(error, 'not-found', identifiers);
    });

    it('counts no local instances of a study it does not hold, and answers an empty list with an empty map', async () => {
      expect(await localCount(fixture.pacs, unknownStudyUid)).toBe(0);
      expect((await fixture.pacs.localInstanceCounts([])).size).toBe(0);
    });
  });
}
