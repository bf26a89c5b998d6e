/**
 * The demo backend: clearly labelled synthetic patients and sites, so a newcomer can try the whole
 * find-and-retrieve flow with `npm start` and no PACS. It behaves like the real one: answers take
 * time, one site is slow, one cannot be reached, and retrievals finish a few seconds later.
 * NHS numbers are in the 999 range, which the NHS never issues to real patients.
 */
import type { StudySummary } from '../../ports/pacs-port';
import { FakePacs } from './fake-pacs';

/** The synthetic patients (all "DEMO" patients, 999 NHS numbers). */
export const demoPatients = {
  /** Registered at UH Bristol, with studies at Exeter and Plymouth. */
  alice: { nhsNumber: '9990000018', familyName: 'DEMO-PATIENT', givenName: 'Alice', birthDate: '1970-03-12' },
  /** Registered at UH Bristol, no studies elsewhere. */
  bob: { nhsNumber: '9990000026', familyName: 'DEMO-PATIENT', givenName: 'Bob', birthDate: '1985-07-01' },
  /** Not registered at UH Bristol (P2P cannot link). */
  carol: { nhsNumber: '9990000034', familyName: 'DEMO-PATIENT', givenName: 'Carol', birthDate: '1990-11-23' },
} as const;

function study(uid: string, date: string, description: string, modality: string, instances: number): StudySummary {
  return {
    studyInstanceUid: `2.25.999${uid}`,
    date,
    description: `${description} (DEMO)`,
    modalities: [modality],
    instanceCount: instances,
  };
}

/** Creates the demo PACS (all seven Insignia sites; Plymouth slow, Cornwall unreachable). */
export function createDemoPacs(options: { retrievalMs?: number; slowSiteMs?: number } = {}): FakePacs {
  const { alice, bob } = demoPatients;
  const identity = (p: (typeof demoPatients)['alice' | 'bob'], localId: string) => ({
    nhsNumber: p.nhsNumber,
    localId,
    familyName: p.familyName,
    givenName: p.givenName,
    birthDate: p.birthDate,
    sex: null,
  });
  return new FakePacs({
    retrievalMs: options.retrievalMs ?? 4000,
    local: [
      { identity: identity(alice, 'DEMO0001'), studies: [study('1001', '2026-10-02', 'XR Chest', 'CR', 1)] },
      { identity: identity(bob, 'DEMO0002'), studies: [] },
    ],
    sites: {
      exeter: {
        delayMs: 600,
        studies: {
          [alice.nhsNumber]: [
            study('2001', '2024-03-12', 'XR Chest', 'DX', 2),
            study('2002', '2023-11-05', 'CT Head', 'CT', 5),
            study('2003', '2022-06-18', 'MR Knee Left', 'MR', 3),
          ],
        },
      },
      plymouth: {
        delayMs: options.slowSiteMs ?? 2500,
        studies: { [alice.nhsNumber]: [study('3001', '2025-01-20', 'US Abdomen', 'US', 4)] },
      },
      cornwall: { behaviour: 'unreachable', studies: {} },
      weston: { delayMs: 300, studies: {} },
      'north-devon': { delayMs: 400, studies: {} },
      'south-devon': { delayMs: 500, studies: {} },
      'dorset-county': { delayMs: 350, studies: {} },
    },
  });
}
