/**
 * NHS numbers: ten digits whose last is a Modulus 11 check digit. Typed with spaces or dashes
 * ("943 476 5919", "943-476-5919"); shown as 3-3-4.
 */

/** Why a typed NHS number was refused, in words a clinician can act on. */
export type NhsNumberProblem = 'not-ten-digits' | 'bad-check-digit';

/** The outcome of reading an NHS number. */
export type NhsNumberResult =
  { readonly ok: true; readonly nhsNumber: string } | { readonly ok: false; readonly problem: NhsNumberProblem; readonly message: string };

/** The Modulus 11 check digit for the first nine digits, or null when none is possible (remainder gives 10). */
export function checkDigit(nineDigits: string): number | null {
  let sum = 0;
  for (let i = 0; i < 9; i += 1) sum += Number(nineDigits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  return check === 10 ? null : check;
}

/** Reads a typed NHS number: digits with optional spaces or dashes between them. */
export function parseNhsNumber(typed: string): NhsNumberResult {
  const digits = typed.trim().replace(/[\s-]/g, '');
  if (!/^\d{10}$/.test(digits)) {
    return {
      ok: false,
      problem: 'not-ten-digits',
      message: 'An NHS number has exactly 10 digits (spaces or dashes between them are fine).',
    };
  }
  if (checkDigit(digits.slice(0, 9)) !== Number(digits[9])) {
    return {
      ok: false,
      problem: 'bad-check-digit',
      message: 'That is not a valid NHS number: its check digit does not match. Please check each digit.',
    };
  }
  return { ok: true, nhsNumber: digits };
}

/** "9434765919" -> "943 476 5919". */
export function formatNhsNumber(nhsNumber: string): string {
  return `${nhsNumber.slice(0, 3)} ${nhsNumber.slice(3, 6)} ${nhsNumber.slice(6)}`;
}

/** Finds something shaped like an NHS number in free text (10 digits, grouped 3-3-4 or not). */
export function findNhsNumberText(text: string): string | null {
  const match = /(?<!\d)(\d{3}[\s-]?\d{3}[\s-]?\d{4})(?!\d)/.exec(text);
  return match?.[1] ?? null;
}

/** True for ten digits whose last is the Modulus 11 check digit of the first nine. */
export function isValidNhsNumber(value: string): boolean {
  return /^\d{10}$/.test(value) && checkDigit(value.slice(0, 9)) === Number(value[9]);
}

/** Which NHS number a PACS record holds, as far as positive identification goes. */
export type RecordNhsNumber =
  | { readonly kind: 'identified'; readonly nhsNumber: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'conflict'; readonly distinct: number };

/**
 * The patient's NHS number on a record, from the values in its NHS-number places. Only values that
 * pass Modulus 11 count (a 10-digit hospital number is not an NHS number). Searched by NHS number:
 * the record must hold exactly that one and no other valid NHS number, else it conflicts. Searched by
 * name and date of birth: the one valid NHS number it holds, none, or a conflict when it holds several.
 */
export function recordNhsNumber(values: readonly string[], searched: string | null): RecordNhsNumber {
  const valid = [...new Set(values.map((v) => v.trim()).filter(isValidNhsNumber))];
  if (searched !== null) {
    return valid.length === 1 && valid[0] === searched
      ? { kind: 'identified', nhsNumber: searched }
      : { kind: 'conflict', distinct: valid.length };
  }
  if (valid.length === 0) return { kind: 'none' };
  return valid.length === 1 ? { kind: 'identified', nhsNumber: valid[0]! } : { kind: 'conflict', distinct: valid.length };
}
