import type { PatientIdentity } from '../../src/ports/pacs-port';
import path from 'node:path';
import { loadGuideFile } from '../../src/adapters/guide-file';
import { loadCardRenderer, type CardRenderer } from '../../src/cards/card-renderer';
import { projectRoot } from '../../src/config/config';
import type { Guide } from '../../src/domain/guide/guide';

/** The real guide data file the bot ships with. */
export const guideFile = path.join(projectRoot, 'content', 'guide.json');

/** The real guide, loaded and validated as at start. */
export function realGuide(): Guide {
  return loadGuideFile(guideFile);
}

/** The real card templates. */
export function realCards(): CardRenderer {
  return loadCardRenderer(path.join(projectRoot, 'cards'));
}

/** The synthetic patient most component and fault tests search for, as UH Bristol's PACS records her. */
export const fakeAlice: PatientIdentity = {
  nhsNumber: '9434765919',
  localId: 'UHB123',
  familyName: 'TESTPATIENT',
  givenName: 'Alice',
  birthDate: '1970-03-12',
  sex: 'F',
};
