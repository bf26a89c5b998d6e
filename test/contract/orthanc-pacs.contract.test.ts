/**
 * The PacsPort contract against the Orthanc adapter and real Orthanc servers: LOCAL (UH Bristol)
 * and EXETER, seeded with the test patient.
 */
import { createOrthancPacs } from '../../src/adapters/pacs/orthanc-pacs';
import { botUser, describeWithOrthanc, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { distractorStudy, exeterStudies, localStudies, seedStudies, testPatient, unregisteredNhsNumber } from '../support/orthanc-seed';
import { pacsContract, pollUntil } from './pacs-contract';

describeWithOrthanc('Orthanc PACS adapter', () => {
  let lab: OrthancLab | undefined;

  pacsContract(
    'orthanc',
    async () => {
      lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }], gated: true });
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
        holdTransfers: () => {
          const gate = lab!.gate('EXETER');
          gate.hold();
          return Promise.resolve({
            // The remote's C-STORE association to LOCAL waiting at the gate: the transfer has begun and stalled.
            stalled: async () => {
              await pollUntil(() => Promise.resolve(gate.waitingCount > 0 ? true : undefined), { intervalMs: 20, timeoutMs: 10_000 });
            },
            release: () => {
              gate.release();
              return Promise.resolve();
            },
          });
        },
      };
    },
    async () => {
      await lab?.stop();
    },
  );
});
