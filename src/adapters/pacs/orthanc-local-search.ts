/**
 * Searches of UH Bristol's own PACS through Orthanc's /tools/find: local patients by NHS number or by
 * name and date of birth, with their studies, and the instance counts of studies already held.
 */
import { z } from 'zod';
import { recordNhsNumber } from '../../domain/patients/nhs-number';
import type { LocalPatientRecord, PatientIdentity, PatientSearch, StudySummary } from '../../ports/pacs-port';
import { dicomSpecial, isoDate, nhsNumberPattern, sortedStudies, tags, text, uidPattern, values } from './orthanc-dicom';
import type { OrthancCall } from './orthanc-http';

/** Studies per local-count query (about 65 bytes of UID each; keeps requests and replies modest). */
const countBatchSize = 200;

const studyResource = z.object({
  ID: z.string(),
  ParentPatient: z.string(),
  MainDicomTags: tags.default({}),
  PatientMainDicomTags: tags.default({}),
});
const seriesResource = z.object({
  ParentStudy: z.string(),
  MainDicomTags: tags.default({}),
  Instances: z.array(z.string()).default([]),
});
type StudyResource = z.infer<typeof studyResource>;
type SeriesResource = z.infer<typeof seriesResource>;

/** The local patients matching `search`, each with their studies. */
export async function findLocalPatients(call: OrthancCall, search: PatientSearch): Promise<LocalPatientRecord[]> {
  switch (search.kind) {
    case 'nhs-number':
      return findByNhsNumber(call, search.nhsNumber.replace(/\s+/g, ''));
    case 'demographics':
      return findByDemographics(call, search.familyName, search.givenName, search.birthDate);
  }
}

/** How many instances UH Bristol's PACS holds of each study (0 for a study it does not hold). */
export async function localInstanceCounts(call: OrthancCall, studyInstanceUids: readonly string[]): Promise<ReadonlyMap<string, number>> {
  const counts = new Map(studyInstanceUids.map((uid) => [uid, 0]));
  // Only real UIDs go into the query: a wildcard or separator would widen the match.
  const wanted = [...counts.keys()].filter((uid) => uidPattern.test(uid) && uid.length <= 64);
  for (let start = 0; start < wanted.length; start += countBatchSize) {
    // DICOM list matching (UIDs joined by backslashes): two requests per batch however many studies it holds.
    const query = { StudyInstanceUID: wanted.slice(start, start + countBatchSize).join('\\') };
    const studies = await findStudies(call, query);
    if (studies.length === 0) continue;
    const uidOf = new Map(studies.map((study) => [study.ID, text(study.MainDicomTags, 'StudyInstanceUID')]));
    const series = await findSeries(call, query);
    for (const one of series) {
      const uid = uidOf.get(one.ParentStudy);
      const sofar = uid === undefined ? undefined : counts.get(uid);
      if (uid !== undefined && sofar !== undefined) counts.set(uid, sofar + one.Instances.length);
    }
  }
  return counts;
}

async function findStudies(call: OrthancCall, query: Record<string, string>): Promise<StudyResource[]> {
  return call('POST', '/tools/find', z.array(studyResource), null, { Level: 'Study', Query: query, Expand: true });
}

async function findSeries(call: OrthancCall, query: Record<string, string>): Promise<SeriesResource[]> {
  return call('POST', '/tools/find', z.array(seriesResource), null, { Level: 'Series', Query: query, Expand: true });
}

async function findByNhsNumber(call: OrthancCall, nhsNumber: string): Promise<LocalPatientRecord[]> {
  if (!nhsNumberPattern.test(nhsNumber)) return [];
  const byPatientId = { PatientID: nhsNumber };
  // Some records keep a hospital number as PatientID and the NHS number among OtherPatientIDs
  // (a retired tag, so Orthanc only takes it by number); a wildcard finds it among several values.
  const byOtherIds = { '0010,1000': `*${nhsNumber}*` };
  const [first, second] = await Promise.all([findStudies(call, byPatientId), findStudies(call, byOtherIds)]);
  const others = second.filter((s) => values(text(s.PatientMainDicomTags, 'OtherPatientIDs')).includes(nhsNumber));
  const records = [...(await localRecords(call, first, byPatientId)), ...(await localRecords(call, others, byOtherIds))];
  // The same patient can turn up through both routes.
  return [...new Map(records.map((r) => [r.identity.localId, r])).values()];
}

async function findByDemographics(
  call: OrthancCall,
  familyName: string,
  givenName: string,
  birthDate: string,
): Promise<LocalPatientRecord[]> {
  const family = familyName.replace(dicomSpecial, '').trim();
  const given = givenName.replace(dicomSpecial, '').trim();
  const dob = /^\d{4}-\d{2}-\d{2}$/.test(birthDate) ? birthDate.replace(/-/g, '') : '';
  // Without a whole name and a date of birth nothing can match (and a bare wildcard would match everyone).
  if (family === '' || given === '' || dob === '') return [];
  // Orthanc matches PatientName without regard to case; the trailing wildcard admits middle names,
  // which the exact check below then limits to "given name, optionally followed by more names".
  const query = { PatientName: `${family}^${given}*`, PatientBirthDate: dob };
  const records = await localRecords(call, await findStudies(call, query), query);
  const same = (a: string, b: string): boolean => a.localeCompare(b, 'en', { sensitivity: 'accent' }) === 0;
  return records.filter(
    (r) =>
      same(r.identity.familyName, family) && (same(r.identity.givenName, given) || same(r.identity.givenName.split(' ')[0] ?? '', given)),
  );
}

/** Local patients from a set of studies (deduplicated by Orthanc study id), with modalities and counts. */
async function localRecords(call: OrthancCall, studies: StudyResource[], query: Record<string, string>): Promise<LocalPatientRecord[]> {
  const unique = [...new Map(studies.map((s) => [s.ID, s])).values()];
  if (unique.length === 0) return [];
  // One series-level find gives every study's modalities and instance counts in a single request.
  const perStudy = seriesTotals(await findSeries(call, query));
  const patients = new Map<
    string,
    { identity: PatientIdentity; nhsNumberValues: string[]; studies: Array<StudySummary & { time: string }> }
  >();
  for (const study of unique) {
    let patient = patients.get(study.ParentPatient);
    if (!patient) {
      const nhsNumberValues = nhsNumberValuesOf(study.PatientMainDicomTags);
      patient = { identity: identityOf(study.PatientMainDicomTags, nhsNumberValues), nhsNumberValues, studies: [] };
    }
    const extra = perStudy.get(study.ID);
    patient.studies.push({
      studyInstanceUid: text(study.MainDicomTags, 'StudyInstanceUID'),
      date: isoDate(text(study.MainDicomTags, 'StudyDate')),
      time: text(study.MainDicomTags, 'StudyTime'),
      description: text(study.MainDicomTags, 'StudyDescription'),
      modalities: extra ? [...extra.modalities].sort() : [],
      instanceCount: extra ? extra.instances : null,
      accessionNumber: text(study.MainDicomTags, 'AccessionNumber'),
    });
    patients.set(study.ParentPatient, patient);
  }
  return [...patients.values()].map((p) => ({
    identity: p.identity,
    nhsNumberValues: p.nhsNumberValues,
    studies: sortedStudies(p.studies),
  }));
}

/** Each study's modalities and instance count, by Orthanc study id, from its series. */
function seriesTotals(series: readonly SeriesResource[]): Map<string, { modalities: Set<string>; instances: number }> {
  const perStudy = new Map<string, { modalities: Set<string>; instances: number }>();
  for (const s of series) {
    const entry = perStudy.get(s.ParentStudy) ?? { modalities: new Set<string>(), instances: 0 };
    for (const modality of values(text(s.MainDicomTags, 'Modality'))) entry.modalities.add(modality);
    entry.instances += s.Instances.length;
    perStudy.set(s.ParentStudy, entry);
  }
  return perStudy;
}

/** The values where a record may keep an NHS number: PatientID, then each of OtherPatientIDs. */
function nhsNumberValuesOf(patient: Record<string, unknown>): string[] {
  return [text(patient, 'PatientID'), ...values(text(patient, 'OtherPatientIDs'))].filter((v) => v !== '');
}

function identityOf(patient: Record<string, unknown>, nhsNumberValues: readonly string[]): PatientIdentity {
  const localId = text(patient, 'PatientID');
  const [family = '', given = ''] = text(patient, 'PatientName').split('^');
  const sex = text(patient, 'PatientSex').toUpperCase();
  // Only a value that passes Modulus 11 is an NHS number (a 10-digit hospital number is not); the use case decides.
  const held = recordNhsNumber(nhsNumberValues, null);
  const nhsNumber = held.kind === 'identified' ? held.nhsNumber : null;
  return {
    nhsNumber,
    localId,
    familyName: family.trim(),
    givenName: given.trim(),
    birthDate: isoDate(text(patient, 'PatientBirthDate')),
    sex: sex === 'F' || sex === 'M' || sex === 'O' ? sex : null,
  };
}
