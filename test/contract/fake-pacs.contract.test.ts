/**
 * The PacsPort contract against the fake PACS (used by the tests) and the demo PACS (used by
 * `npm start`), so both keep the same contract as the Orthanc adapter.
 */
import { createDemoPacs, demoPatients } from '../../src/adapters/pacs/demo-pacs';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { pacsContract } from './pacs-contract';

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
  });
});
