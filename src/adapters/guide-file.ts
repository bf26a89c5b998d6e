/**
 * Reads the guide data file and, beside it, the proclaimed bank holidays (bank-holidays.json). Any
 * problem stops the start with a message naming the file or field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GuideError, parseBankHolidays, parseGuideContent, type Guide } from '../domain/guide/guide';

/** The proclaimed bank holidays file that belongs with the guide at `guideFile`. */
export function bankHolidaysFileFor(guideFile: string): string {
  return path.join(path.dirname(guideFile), 'bank-holidays.json');
}

function readJson(file: string, what: string): unknown {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new GuideError('(file)', `cannot read ${what} file ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new GuideError('(file)', `${what} file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Loads and validates the guide at `file` with the bank holidays beside it. */
export function loadGuideFile(file: string): Guide {
  // The guide first: a wrong GUIDE_FILE is named as such, not as a missing bank holidays file beside it.
  const content = parseGuideContent(readJson(file, 'guide'));
  return { ...content, bankHolidays: parseBankHolidays(readJson(bankHolidaysFileFor(file), 'bank holidays')) };
}
