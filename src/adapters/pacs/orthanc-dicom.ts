/**
 * DICOM values as Orthanc hands them over (simplified tags: tag name -> string), the patterns that
 * guard what goes into a DICOM query, and the study order every listing shares.
 */
import { z } from 'zod';
import type { StudySummary } from '../../ports/pacs-port';

// Responses are parsed, not trusted: a shape we do not expect is a 'protocol' error, never a crash.
/** A set of simplified DICOM tags (tag name -> value), as Orthanc returns them. */
export const tags = z.record(z.string(), z.unknown());

/** Ten digits: the only NHS-number shape we pass to a PACS (it also keeps DICOM wildcards out). */
export const nhsNumberPattern = /^\d{10}$/;
/** A DICOM UID: digits and dots, at most 64 characters. */
export const uidPattern = /^[0-9]+(\.[0-9]+)*$/;
/** Characters with a meaning in DICOM matching (wildcards, value and component separators). */
export const dicomSpecial = /[*?\\^]/g;

/** The trimmed string value of `key` in a tag record; '' when absent or not a string. */
export function text(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  return typeof value === 'string' ? value.trim() : '';
}

/** A DICOM multi-valued string split into its values. */
export function values(value: string): string[] {
  return value
    .split('\\')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** DICOM DA (YYYYMMDD) to YYYY-MM-DD; null when absent or not a date. */
export function isoDate(value: string): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : null;
}

/** A DICOM count (IS) as a number; null when absent or not a whole number. */
export function count(value: string): number | null {
  return /^\d+$/.test(value) ? Number(value) : null;
}

/** Newest first; undated studies last; the study time breaks ties on the same day. */
function newestFirst(a: { date: string | null; time: string }, b: { date: string | null; time: string }): number {
  if (a.date !== b.date) {
    if (a.date === null) return 1;
    if (b.date === null) return -1;
    return a.date < b.date ? 1 : -1;
  }
  return a.time === b.time ? 0 : a.time < b.time ? 1 : -1;
}

/**
 * Studies sorted newest first (sorting `studies` in place), without the study time used to order them;
 * an empty accession number (the PACS gave none) is left out.
 */
export function sortedStudies(studies: Array<StudySummary & { time: string }>): StudySummary[] {
  return studies.sort(newestFirst).map((s) => ({
    studyInstanceUid: s.studyInstanceUid,
    date: s.date,
    description: s.description,
    modalities: s.modalities,
    instanceCount: s.instanceCount,
    ...(s.accessionNumber ? { accessionNumber: s.accessionNumber } : {}),
  }));
}
