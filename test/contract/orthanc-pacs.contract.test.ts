/**
 * The PacsPort contract against the Orthanc adapter and real Orthanc servers: LOCAL (UH Bristol)
 * and EXETER, seeded with the test patient.
 */
import { createOrthancPacs } from '../../src/adapters/pacs/orthanc-pacs';
import { botUser, describeWithOrthanc, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { distractorStudy, exeterStudies, localStudies, seedStudies, testPatient, unregisteredNhsNumber } from '../support/orthanc-seed';
import { pacsContract } from './pacs-contract';

describeWithOrthanc('Orthanc PACS adapter', () => {
  let lab: OrthancLab | undefined;

  pacsContract(
    'orthanc',
    async () => {
      lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }] });
      await Promise.all([seedStudies(lab.remote('EXETER'), [...exeterStudies, distractorStudy]), seedStudies(lab.local, localStudies)]);
      return {
        pacs: createOrthancPacs({
          url: lab.local.url,
          username: botUser.username,
          password: botUser.password,
          localAet: lab.localAet,
          sites: [{ site: 'exeter', modality: 'EXETER', nhsNumberAttribute: 'PatientID' }],
          requestTimeoutMs: 10_000,
        }),
        patient: testPatient,
        siteWithStudies: 'exeter',
        remoteStudyUids: exeterStudies.map((s) => s.uid),
        unregisteredNhsNumber,
      };
    },
    async () => {
      await lab?.stop();
    },
  );
});
