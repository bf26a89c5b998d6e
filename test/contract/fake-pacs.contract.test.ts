/**
 * The PacsPort contract against the fake PACS (used by the tests) and the demo PACS (used by
 * `npm start`), so both keep the same contract as the Orthanc adapter.
 */
import { createDemoPacs, demoPatients } from '../../src/adapters/pacs/demo-pacs';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { pacsContract, type TransferHold } from './pacs-contract';

const patient = { nhsNumber: '9434765919', familyName: 'TESTPATIENT', givenName: 'Alice', birthDate: '1970-03-12' };

pacsContract('fake', () => {
  const pacs = new FakePacs({
    local: [{ identity: { ...patient, localId: 'UHB123', sex: 'F' }, studies: [] }],
    sites: {
      exeter: {
        studies: {
          [patient.nhsNumber]: [
            { studyInstanceUid: '2.25.1', date: '2024-03-12', description: 'XR Chest', modalities: ['DX'], instanceCount: 2 },
            { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 },
          ],
        },
      },
    },
  });
  return Promise.resolve({
    pacs,
    patient,
    siteWithStudies: 'exeter',
    remoteStudyUids: ['2.25.1', '2.25.2'],
    unregisteredNhsNumber: '4010232137',
    waitForJob: (jobId) => {
      pacs.completeJob(jobId);
      return Promise.resolve();
    },
    holdTransfers: () => Promise.resolve(fakeHold(pacs)),
  });
});

/** The fake's held link: its jobs are held from the start, so a transfer is stalled at once. */
function fakeHold(pacs: FakePacs): TransferHold {
  pacs.holdTransfers();
  return {
    stalled: () => Promise.resolve(),
    release: () => {
      pacs.releaseTransfers();
      return Promise.resolve();
    },
  };
}

describe('fake PACS: cancelling', () => {
  it('cancels a job not held in a transfer at once: it ends failed and never completes', async () => {
    const pacs = new FakePacs({
      local: [],
      sites: {
        exeter: {
          studies: { [patient.nhsNumber]: [{ studyInstanceUid: '2.25.1', date: null, description: '', modalities: [], instanceCount: 1 }] },
        },
      },
    });
    const job = await pacs.startRetrieval('exeter', patient.nhsNumber, '2.25.1');
    expect(await pacs.cancelRetrieval(job)).toBe('cancelled');
    pacs.completeJob(job);
    expect((await pacs.retrievalStates([job])).get(job)?.state).toBe('failed');
    expect(await pacs.cancelRetrieval(job)).toBe('cancelled');
    expect((await pacs.localInstanceCounts(['2.25.1'])).get('2.25.1')).toBe(0);
  });
});

pacsContract('demo', () => {
  const pacs = createDemoPacs({ retrievalMs: 50, slowSiteMs: 50 });
  return Promise.resolve({
    pacs,
    patient: demoPatients.alice,
    siteWithStudies: 'exeter',
    remoteStudyUids: ['2.25.9992001', '2.25.9992002', '2.25.9992003'],
    unregisteredNhsNumber: demoPatients.carol.nhsNumber,
    holdTransfers: () => Promise.resolve(fakeHold(pacs)),
  });
});
