/**
 * Reads the guide data file. Any problem stops the start with a message naming the file or field.
 */
import fs from 'node:fs';
import { GuideError, parseGuide, type Guide } from '../domain/guide/guide';

/** Loads and validates the guide at `file`. */
export function loadGuideFile(file: string): Guide {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new GuideError('(file)', `cannot read guide file ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (error) {
    throw new GuideError('(file)', `guide file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseGuide(data);
}
