/**
 * Cancelling retrieval jobs on a real Orthanc: a job still pending (LOCAL runs one job at a time, and
 * the first is held mid-transfer at a DICOM gate) is cancelled at once and never delivers its study;
 * the held one cannot be interrupted and completes once the link goes on.
 */
import { createOrthancPacs } from '../../src/adapters/pacs/orthanc-pacs';
import type { PacsPort } from '../../src/ports/pacs-port';
import { localCount, pollUntil, waitForRetrieval } from '../contract/pacs-contract';
import { botUser, describeWithOrthanc, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { exeterStudies, localStudies, seedStudies, testPatient } from '../support/orthanc-seed';

describeWithOrthanc('cancelling Orthanc retrieval jobs', () => {
  let lab: OrthancLab;
  let pacs: PacsPort;

  beforeAll(async () => {
    lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }], gated: true, concurrentJobs: 1 });
    await Promise.all([seedStudies(lab.remote('EXETER'), exeterStudies), seedStudies(lab.local, localStudies)]);
    const sites = [{ site: 'exeter', modality: 'EXETER', nhsNumberAttribute: 'PatientID' }];
    pacs = createOrthancPacs({ url: lab.local.url, ...botUser, localAet: lab.localAet, sites, requestTimeoutMs: 10_000 });
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  it('cancels a pending job at once (it never delivers its study), while the running one, held mid-transfer, says stopping and completes', async () => {
    const [, ct, mr] = [exeterStudies[0]!, exeterStudies[1]!, exeterStudies[2]!];
    const gate = lab.gate('EXETER');
    gate.hold();
    let released = false;
    try {
      const running = await pacs.startRetrieval('exeter', testPatient.nhsNumber, mr.uid);
      await pollUntil(() => Promise.resolve(gate.waitingCount > 0 ? true : undefined), { intervalMs: 20 });
      const pending = await pacs.startRetrieval('exeter', testPatient.nhsNumber, ct.uid);
      expect((await pacs.retrievalStates([pending])).get(pending)).toEqual({ state: 'pending' });

      expect(await pacs.cancelRetrieval(pending)).toBe('cancelled');
      expect((await pacs.retrievalStates([pending])).get(pending)?.state).toBe('failed');
      expect(await pacs.cancelRetrieval(running)).toBe('stopping');

      gate.release();
      released = true;
      expect(await waitForRetrieval(pacs, running)).toEqual({ state: 'succeeded' });
      expect(await localCount(pacs, mr.uid)).toBe(3);
      // The cancelled one stays cancelled, and its study never came.
      expect(await pacs.cancelRetrieval(pending)).toBe('cancelled');
      expect(await localCount(pacs, ct.uid)).toBe(0);
    } finally {
      if (!released) gate.release();
    }
  }, 60_000);
});
