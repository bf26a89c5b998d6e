/**
 * Synthetic patients and studies for the Orthanc tests, stored through REST /tools/create-dicom with
 * fixed UIDs and explicit dates, so every run (and every server) holds the same data. Names and NHS
 * numbers are made up; the NHS numbers have valid check digits.
 */
import type { OrthancServer } from './orthanc-harness';

/** A patient as the seed writes them into DICOM. */
export interface SeedPatient {
  readonly patientId: string;
  /** DICOM PN: FAMILY^GIVEN[^MIDDLE]. */
  readonly dicomName: string;
  /** DICOM DA: YYYYMMDD. */
  readonly dicomBirthDate: string;
  readonly sex: 'F' | 'M';
  /** OtherPatientIDs (0010,1000), backslash-separated; for records keyed by a hospital number. */
  readonly otherPatientIds?: string;
}

/** One series of a seeded study. */
export interface SeedSeries {
  readonly number: number;
  readonly description: string;
  readonly instances: number;
}

/** One seeded study. */
export interface SeedStudy {
  readonly patient: SeedPatient;
  readonly uid: string;
  /** YYYYMMDD and HHMMSS. */
  readonly date: string;
  readonly time: string;
  readonly accession: string;
  readonly description: string;
  readonly modality: 'DX' | 'CT' | 'MR' | 'US' | 'CR';
  readonly bodyPart: string;
  readonly institution: string;
  readonly series: readonly SeedSeries[];
}

/** The SOP class of each seeded modality: always set, or a later C-MOVE of the instance fails. */
const sopClass: Record<SeedStudy['modality'], string> = {
  DX: '1.2.840.10008.5.1.4.1.1.1.1',
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  US: '1.2.840.10008.5.1.4.1.1.6.1',
  CR: '1.2.840.10008.5.1.4.1.1.1',
};

/** 32x32 grey PNG: create-dicom turns it into real pixel data. */
const png =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAAAAABWESUoAAAAoUlEQVR4nIXJEQICAQAAwYUgCIIgCIIgCIIgCIIgCIIgCIIgCIIgOAiCIAiCIAiCIAiCIAiCIAiCIAiCIAiCsCfs6EAoHInG4olkKp3J5vKFYqlcqdbqjWar3en2+oH9APkh8iPkx8hPkJ8iP0N+jvwC+SXyK+TXyG+Q3yK/Q36P/AH5I/In5M/IX5C/In9D/o78A/kn8i/k38h/kP8i//sDDXbwEKcKkEAAAAAASUVORK5CYII=';

/** The test patient: registered at UH Bristol (one local study) with three studies at Exeter. */
export const alice: SeedPatient = { patientId: '9434765919', dicomName: 'TESTPATIENT^ALICE', dicomBirthDate: '19700312', sex: 'F' };
/** The same patient as a clinician would type them. */
export const testPatient = { nhsNumber: '9434765919', familyName: 'TESTPATIENT', givenName: 'ALICE', birthDate: '1970-03-12' } as const;
/** A distractor at Exeter only. */
export const bob: SeedPatient = { patientId: '4010232137', dicomName: 'TESTPATIENT^BOB', dicomBirthDate: '19551120', sex: 'M' };
/** A local patient keyed by hospital number, with the NHS number among OtherPatientIDs and a middle name. */
export const carol: SeedPatient = {
  patientId: 'H7654321',
  dicomName: 'TESTPATIENT^CAROL^ANN',
  dicomBirthDate: '19800101',
  sex: 'F',
  otherPatientIds: 'X12345\\9990004560',
};
/** Carol's NHS number. */
export const carolNhsNumber = '9990004560';
/** A valid NHS number held nowhere: not locally, not at any site. */
export const unregisteredNhsNumber = '9990001235';

const exeter = 'Royal Devon and Exeter Hospital';

/** Alice's studies at Exeter, newest first (as the recipe seeds them). */
export const exeterStudies: readonly SeedStudy[] = [
  {
    patient: alice,
    uid: '2.25.94347659191',
    date: '20240312',
    time: '101500',
    accession: 'EXE24031201',
    description: 'XR Chest',
    modality: 'DX',
    bodyPart: 'CHEST',
    institution: exeter,
    series: [{ number: 1, description: 'Chest PA/LAT', instances: 2 }],
  },
  {
    patient: alice,
    uid: '2.25.94347659192',
    date: '20231105',
    time: '224100',
    accession: 'EXE23110502',
    description: 'CT Head',
    modality: 'CT',
    bodyPart: 'HEAD',
    institution: exeter,
    series: [
      { number: 1, description: 'Scout', instances: 1 },
      { number: 2, description: 'Axial 5mm', instances: 4 },
    ],
  },
  {
    patient: alice,
    uid: '2.25.94347659193',
    date: '20220618',
    time: '083000',
    accession: 'EXE22061803',
    description: 'MR Knee Left',
    modality: 'MR',
    bodyPart: 'KNEE',
    institution: exeter,
    series: [{ number: 1, description: 'PD FS SAG', instances: 3 }],
  },
];

/** Alice's study at Plymouth (for tests with a second peer site). */
export const plymouthStudy: SeedStudy = {
  patient: alice,
  uid: '2.25.94347659195',
  date: '20190210',
  time: '110000',
  accession: 'PLY19021001',
  description: 'CT Abdomen',
  modality: 'CT',
  bodyPart: 'ABDOMEN',
  institution: 'Derriford Hospital',
  series: [{ number: 1, description: 'Axial', instances: 2 }],
};

/** Bob's study at Exeter. */
export const distractorStudy: SeedStudy = {
  patient: bob,
  uid: '2.25.40102321371',
  date: '20240101',
  time: '140000',
  accession: 'EXE24010104',
  description: 'US Abdomen',
  modality: 'US',
  bodyPart: 'ABDOMEN',
  institution: exeter,
  series: [{ number: 1, description: 'Abdomen', instances: 2 }],
};

const bristol = 'Bristol Royal Infirmary';

/** What UH Bristol's PACS holds before any retrieval: Alice's hand X-ray and Carol's. */
export const localStudies: readonly SeedStudy[] = [
  {
    patient: alice,
    uid: '2.25.94347659194',
    date: '20210704',
    time: '093000',
    accession: 'UHB21070401',
    description: 'XR Left Hand',
    modality: 'CR',
    bodyPart: 'HAND',
    institution: bristol,
    series: [{ number: 1, description: 'Hand PA/OBL', instances: 1 }],
  },
  {
    patient: carol,
    uid: '2.25.99900045601',
    date: '20200101',
    time: '120000',
    accession: 'UHB20010101',
    description: 'XR Right Hand',
    modality: 'CR',
    bodyPart: 'HAND',
    institution: bristol,
    series: [{ number: 1, description: 'Hand PA', instances: 1 }],
  },
];

/** The number of instances of a seeded study. */
export function instanceCount(study: SeedStudy): number {
  return study.series.reduce((sum, s) => sum + s.instances, 0);
}

/** The create-dicom bodies of one study, one per instance. */
function instances(study: SeedStudy): Array<Record<string, unknown>> {
  const bodies: Array<Record<string, unknown>> = [];
  for (const series of study.series) {
    const seriesUid = `${study.uid}.${series.number}`;
    for (let n = 1; n <= series.instances; n += 1) {
      const p = study.patient;
      bodies.push({
        Force: true,
        Tags: {
          PatientID: p.patientId,
          IssuerOfPatientID: /^\d{10}$/.test(p.patientId) ? 'NHS' : 'UHB',
          PatientName: p.dicomName,
          PatientBirthDate: p.dicomBirthDate,
          PatientSex: p.sex,
          // OtherPatientIDs is a retired tag: Orthanc takes it by number only.
          ...(p.otherPatientIds === undefined ? {} : { '0010,1000': p.otherPatientIds }),
          StudyInstanceUID: study.uid,
          StudyDate: study.date,
          StudyTime: study.time,
          AccessionNumber: study.accession,
          StudyID: study.accession,
          StudyDescription: study.description,
          InstitutionName: study.institution,
          SeriesInstanceUID: seriesUid,
          SeriesNumber: String(series.number),
          SeriesDescription: series.description,
          SeriesDate: study.date,
          SeriesTime: study.time,
          Modality: study.modality,
          BodyPartExamined: study.bodyPart,
          SOPClassUID: sopClass[study.modality],
          SOPInstanceUID: `${seriesUid}.${n}`,
          InstanceNumber: String(n),
          ContentDate: study.date,
          ContentTime: study.time,
          AcquisitionDate: study.date,
          AcquisitionTime: study.time,
          InstanceCreationDate: study.date,
          InstanceCreationTime: study.time,
        },
        Content: png,
      });
    }
  }
  return bodies;
}

/** Stores the studies on the server, a few instances at a time. */
export async function seedStudies(server: OrthancServer, studies: readonly SeedStudy[]): Promise<void> {
  const bodies = studies.flatMap(instances);
  for (let i = 0; i < bodies.length; i += 4) {
    await Promise.all(bodies.slice(i, i + 4).map((body) => server.request('POST', '/tools/create-dicom', body)));
  }
}
