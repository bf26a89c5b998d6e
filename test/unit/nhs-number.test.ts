import {
  checkDigit,
  findNhsNumberText,
  formatNhsNumber,
  isValidNhsNumber,
  parseNhsNumber,
  recordNhsNumber,
} from '../../src/domain/patients/nhs-number';

describe('NHS numbers', () => {
  it.each(['943 476 5919', '9434765919', '943-476-5919', ' 943 4765919 ', '401 023 2137'])('accepts %s', (typed) => {
    expect(parseNhsNumber(typed).ok).toBe(true);
  });

  it('returns the ten digits', () => {
    expect(parseNhsNumber('943-476-5919')).toEqual({ ok: true, nhsNumber: '9434765919' });
  });

  it.each([
    ['943 476 5918', 'bad-check-digit'],
    ['943 476 591', 'not-ten-digits'],
    ['943 476 59190', 'not-ten-digits'],
    ['943 476 591X', 'not-ten-digits'],
    ['', 'not-ten-digits'],
  ])('refuses %s (%s) with a reason', (typed, problem) => {
    const result = parseNhsNumber(typed);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toBe(problem);
      expect(result.message.length).toBeGreaterThan(20);
    }
  });

  it('refuses a number whose check digit would be 10', () => {
    // Search for nine digits whose weighted sum leaves remainder 1 (check digit 10): no tenth digit can make them valid.
    let nine = '';
    for (let n = 100000000; n < 100001000; n += 1) {
      if (checkDigit(String(n)) === null) {
        nine = String(n);
        break;
      }
    }
    expect(nine).not.toBe('');
    for (let last = 0; last <= 9; last += 1) expect(parseNhsNumber(`${nine}${last}`).ok).toBe(false);
  });

  it('formats as 3-3-4', () => {
    expect(formatNhsNumber('9434765919')).toBe('943 476 5919');
  });

  it('finds a number in a sentence', () => {
    expect(findNhsNumberText('find images for 943 476 5919 please')).toBe('943 476 5919');
    expect(findNhsNumberText('find images for 9434765919')).toBe('9434765919');
    expect(findNhsNumberText('call 01823 343317')).toBeNull();
  });
});

describe("a record's NHS number (positive identification)", () => {
  const searched = '9434765919';

  it('counts only values that pass Modulus 11: a 10-digit hospital number is not an NHS number', () => {
    expect(isValidNhsNumber('1234567890')).toBe(false);
    expect(isValidNhsNumber(searched)).toBe(true);
    expect(recordNhsNumber(['1234567890', searched], searched)).toEqual({ kind: 'identified', nhsNumber: searched });
    expect(recordNhsNumber(['1234567890', 'H7654321'], null)).toEqual({ kind: 'none' });
  });

  it('identifies by the NHS number searched only when the record holds exactly that one', () => {
    expect(recordNhsNumber([searched, ` ${searched} `], searched)).toEqual({ kind: 'identified', nhsNumber: searched });
    expect(recordNhsNumber(['4010232137', searched], searched)).toEqual({ kind: 'conflict', distinct: 2 });
    expect(recordNhsNumber(['4010232137'], searched)).toEqual({ kind: 'conflict', distinct: 1 });
    expect(recordNhsNumber([], searched)).toEqual({ kind: 'conflict', distinct: 0 });
  });

  it('takes the one valid NHS number of a record found by name and date of birth, and refuses several', () => {
    expect(recordNhsNumber(['UHB123', searched], null)).toEqual({ kind: 'identified', nhsNumber: searched });
    expect(recordNhsNumber([searched, '4010232137'], null)).toEqual({ kind: 'conflict', distinct: 2 });
  });
});
