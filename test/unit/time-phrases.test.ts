import { DateTime } from 'luxon';
import { understandTime, type UnderstoodTime } from '../../src/domain/questions/time-phrases';
import { london, zone } from '../support/instants';

/** Reads a question asked at a London wall-clock time (e.g. '2026-12-03T14:00'). */
function read(text: string, askedLondon: string): UnderstoodTime {
  return understandTime(text, london(askedLondon), zone);
}

/** Thursday 3 December 2026, 14:00 GMT: the default moment a question is asked. */
const thu1400 = '2026-12-03T14:00';

describe('understandTime: no time phrase, or "now"', () => {
  it.each([
    ['How do I get Taunton access?', null],
    ['Urgent CT from Swansea, what do I do?', null],
    ['need these asap please', null],
    ['Patient needs a scan urgently', null],
    ['what do I do right now?', 'right now'],
    ['who do I call now', 'now'],
    ['is IEP working at the moment?', 'at the moment'],
    ['Taunton is currently closed?', 'currently'],
    ['can I get North Bristol images today?', 'today'],
    ['', null],
  ])('"%s" means the message instant (phrase %p)', (text, phrase) => {
    const asked = london(thu1400);
    const result = understandTime(text, asked, zone);
    expect(result.instant.toISOString()).toBe('2026-12-03T14:00:00.000Z');
    expect(result.source).toBe('now');
    expect(result.phrase).toBe(phrase);
    expect(result.note).toBeNull();
  });

  it('returns a new Date, not the message instant itself', () => {
    const asked = london(thu1400);
    const result = understandTime('right now', asked, zone);
    expect(result.instant).not.toBe(asked);
    expect(result.instant.getTime()).toBe(asked.getTime());
  });
});

describe('understandTime: numbers and words that are not times', () => {
  it.each([
    'NHS number 943 476 5919, can I get his scans?',
    'NHS no. 9434765919',
    'patient 943-476-5919',
    'ring them on 01823 343317',
    'call 0117 923 0000',
    'bleep 2310 for the registrar',
    'please bleep 2310',
    'ext 22724',
    'extension 2310',
    'call 2310',
    'images older than 30 days',
    'the guide is v1.0, May 2017',
    'guide from 2017',
    'CT head',
    'I need 2 scans from Weston',
    'press F5 to refresh',
    'Weston-super-Mare, Taunton & Yeovil, North Devon, RUH Bath',
    'Sunderland and Monklands',
    'is the IEP 24/7?',
    'I sat with the patient',
    'good morning, how do I use IEP?',
    'I am on nights',
    'follow up in 6/12',
    'out of hours export',
    '1500 images in the study',
    'dose 1.25 mg',
    'my bleep is 2310, please call back',
    '3/4 of the images are missing',
    'CT 2/52 ago',
  ])('"%s" has no time', (text) => {
    const result = read(text, thu1400);
    expect(result.source).toBe('now');
    expect(result.instant.toISOString()).toBe('2026-12-03T14:00:00.000Z');
    expect(result.phrase).toBeNull();
  });

  it('does not read a bleep number as 23:10, but does read the time beside it', () => {
    const result = read('bleep 2310 at 0300', thu1400);
    expect(result.instant.toISOString()).toBe('2026-12-04T03:00:00.000Z');
    expect(result.phrase).toBe('at 0300');
  });

  it('does not read a phone number next to a time', () => {
    const result = read('call 0117 923 0000 at 2am', thu1400);
    expect(result.instant.toISOString()).toBe('2026-12-04T02:00:00.000Z');
    expect(result.phrase).toBe('at 2am');
  });
});

describe('understandTime: clock times with no day (asked Thu 3 Dec 2026 14:00 GMT)', () => {
  it.each([
    ['how do I get Taunton access at 2am?', '2026-12-04T02:00:00.000Z', 'at 2am'],
    ['2 am', '2026-12-04T02:00:00.000Z', '2 am'],
    ['AT 2AM', '2026-12-04T02:00:00.000Z', 'AT 2AM'],
    ['2 a.m.', '2026-12-04T02:00:00.000Z', '2 a.m.'],
    ['what about 2.30am', '2026-12-04T02:30:00.000Z', '2.30am'],
    ['2:30 pm', '2026-12-03T14:30:00.000Z', '2:30 pm'],
    ['5pm', '2026-12-03T17:00:00.000Z', '5pm'],
    ['12am', '2026-12-04T00:00:00.000Z', '12am'],
    ['12pm', '2026-12-04T12:00:00.000Z', '12pm'],
    ['02:00', '2026-12-04T02:00:00.000Z', '02:00'],
    ['2:00', '2026-12-04T02:00:00.000Z', '2:00'],
    ['(at 02:00)', '2026-12-04T02:00:00.000Z', 'at 02:00'],
    ['at 14:30', '2026-12-03T14:30:00.000Z', 'at 14:30'],
    ['0200', '2026-12-04T02:00:00.000Z', '0200'],
    ['at 0200', '2026-12-04T02:00:00.000Z', 'at 0200'],
    ['0200 hrs', '2026-12-04T02:00:00.000Z', '0200 hrs'],
    ['1730', '2026-12-03T17:30:00.000Z', '1730'],
    ['at 1730', '2026-12-03T17:30:00.000Z', 'at 1730'],
    ['1730hrs', '2026-12-03T17:30:00.000Z', '1730hrs'],
    ['1730 hrs', '2026-12-03T17:30:00.000Z', '1730 hrs'],
    ['17:30h', '2026-12-03T17:30:00.000Z', '17:30h'],
    ['17.30', '2026-12-03T17:30:00.000Z', '17.30'],
    ['at 2000', '2026-12-03T20:00:00.000Z', 'at 2000'],
    ['midnight', '2026-12-04T00:00:00.000Z', 'midnight'],
    ['at 12 midnight', '2026-12-04T00:00:00.000Z', 'at 12 midnight'],
    ['noon', '2026-12-04T12:00:00.000Z', 'noon'],
    ['by midday', '2026-12-04T12:00:00.000Z', 'by midday'],
    ['half past five', '2026-12-03T17:30:00.000Z', 'half past five'],
    ['half five', '2026-12-03T17:30:00.000Z', 'half five'],
    ['quarter to nine', '2026-12-03T20:45:00.000Z', 'quarter to nine'],
    ['quarter past 10 in the morning', '2026-12-04T10:15:00.000Z', 'quarter past 10 in the morning'],
    ["5 o'clock", '2026-12-03T17:00:00.000Z', "5 o'clock"],
    ['RUH Bath at 10 past 9', '2026-12-03T21:10:00.000Z', 'at 10 past 9'],
    ['at 3 in the morning', '2026-12-04T03:00:00.000Z', 'at 3 in the morning'],
    ['at 9 in the evening', '2026-12-03T21:00:00.000Z', 'at 9 in the evening'],
  ])('"%s" -> %s', (text, iso, phrase) => {
    const result = read(text, thu1400);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.source).toBe('phrase');
    expect(result.phrase).toBe(phrase);
    expect(result.note).toBeNull();
  });

  it.each([
    // [text, asked (London), expected, why]
    ['at 2am', '2026-12-03T02:20', '2026-12-03T02:00:00.000Z', '20 minutes ago still means today'],
    ['at 2am', '2026-12-03T02:59', '2026-12-03T02:00:00.000Z', '59 minutes ago still means today'],
    ['at 2am', '2026-12-03T03:00', '2026-12-04T02:00:00.000Z', 'an hour ago means tomorrow'],
    ['at 2am', '2026-12-03T01:00', '2026-12-03T02:00:00.000Z', 'later tonight'],
    ['at 9', thu1400, '2026-12-03T21:00:00.000Z', 'bare hour: the next of 09:00 and 21:00'],
    ['at 6', thu1400, '2026-12-03T18:00:00.000Z', 'bare hour: the next of 06:00 and 18:00'],
    ['at 9', '2026-12-03T09:30', '2026-12-03T09:00:00.000Z', 'bare hour just past'],
    ['at 9', '2026-12-03T22:00', '2026-12-04T09:00:00.000Z', 'bare hour: 21:00 gone, next is 09:00'],
    ['at 12', thu1400, '2026-12-04T00:00:00.000Z', 'bare 12: the next of midnight and noon'],
    ['at nine', '2026-12-03T07:00', '2026-12-03T09:00:00.000Z', 'a bare hour in words'],
  ])('"%s" asked at %s -> %s (%s)', (text, asked, iso) => {
    expect(read(text, asked).instant.toISOString()).toBe(iso);
  });

  it('gives the pieces of a phrase split by other words, joined by an ellipsis', () => {
    const result = read('Saturday, can I get the images at 2am?', thu1400);
    expect(result.instant.toISOString()).toBe('2026-12-05T02:00:00.000Z');
    expect(result.phrase).toBe('Saturday … at 2am');
  });

  it('reads the first of several times, and says so', () => {
    const result = read('from 17:00 to 08:00', thu1400);
    expect(result.instant.toISOString()).toBe('2026-12-03T17:00:00.000Z');
    expect(result.phrase).toBe('from 17:00');
    expect(result.note).toBe('more than one time given; read the first');
  });
});

describe('understandTime: days (asked Thu 3 Dec 2026 14:00 GMT)', () => {
  it.each([
    ['tomorrow at 9', '2026-12-04T09:00:00.000Z', 'tomorrow at 9'],
    ['at 9 tomorrow', '2026-12-04T09:00:00.000Z', 'at 9 tomorrow'],
    ['at nine tomorrow', '2026-12-04T09:00:00.000Z', 'at nine tomorrow'],
    ['tomorrow at 12', '2026-12-04T12:00:00.000Z', 'tomorrow at 12'],
    ['tomorrow at 5', '2026-12-04T17:00:00.000Z', 'tomorrow at 5'],
    ['how about 6pm tomorrow?', '2026-12-04T18:00:00.000Z', '6pm tomorrow'],
    ['at about 6pm tomorrow', '2026-12-04T18:00:00.000Z', 'at about 6pm tomorrow'],
    ['Saturday at 6', '2026-12-05T18:00:00.000Z', 'Saturday at 6'],
    ['Saturday at 7', '2026-12-05T07:00:00.000Z', 'Saturday at 7'],
    ['Saturday at 11', '2026-12-05T11:00:00.000Z', 'Saturday at 11'],
    ['Saturday at 12am', '2026-12-05T00:00:00.000Z', 'Saturday at 12am'],
    ['sat at 2pm', '2026-12-05T14:00:00.000Z', 'sat at 2pm'],
    ['Taunton access at 2am on Saturday?', '2026-12-05T02:00:00.000Z', 'at 2am on Saturday'],
    ['Saturday 2am', '2026-12-05T02:00:00.000Z', 'Saturday 2am'],
    ['Friday, 2am', '2026-12-04T02:00:00.000Z', 'Friday, 2am'],
    ['on Thursday at 18:00', '2026-12-03T18:00:00.000Z', 'on Thursday at 18:00'],
    ['today at 5', '2026-12-03T17:00:00.000Z', 'today at 5'],
    ['yesterday at 3pm', '2026-12-02T15:00:00.000Z', 'yesterday at 3pm'],
    ['Sunday night', '2026-12-06T22:00:00.000Z', 'Sunday night'],
    ['Sunday night at 1am', '2026-12-07T01:00:00.000Z', 'Sunday night at 1am'],
    ['Friday morning', '2026-12-04T09:00:00.000Z', 'Friday morning'],
    ['Friday afternoon', '2026-12-04T14:00:00.000Z', 'Friday afternoon'],
    ['tomorrow evening', '2026-12-04T19:00:00.000Z', 'tomorrow evening'],
    ['tomorrow night', '2026-12-04T22:00:00.000Z', 'tomorrow night'],
    ['Friday overnight', '2026-12-05T02:00:00.000Z', 'Friday overnight'],
    ['Friday week at 2pm', '2026-12-11T14:00:00.000Z', 'Friday week at 2pm'],
    ['next Monday at 10am', '2026-12-07T10:00:00.000Z', 'next Monday at 10am'],
    ['next Friday at 10am', '2026-12-11T10:00:00.000Z', 'next Friday at 10am'],
    ['this Friday at 10am', '2026-12-04T10:00:00.000Z', 'this Friday at 10am'],
    ['last Friday at 10am', '2026-11-27T10:00:00.000Z', 'last Friday at 10am'],
    ['over the weekend at 10pm', '2026-12-05T22:00:00.000Z', 'over the weekend at 10pm'],
  ])('"%s" -> %s', (text, iso, phrase) => {
    const result = read(text, thu1400);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.source).toBe('phrase');
    expect(result.phrase).toBe(phrase);
  });

  it('reads "at 18:30 on a Friday" asked on a Wednesday as that Friday', () => {
    const result = read('Urgent CT from Swansea, what do I do at 18:30 on a Friday?', '2026-12-02T10:00');
    expect(result.instant.toISOString()).toBe('2026-12-04T18:30:00.000Z');
    expect(result.phrase).toBe('at 18:30 on a Friday');
    expect(result.note).toBeNull();
  });

  it.each([
    ['Saturday', '2026-12-05T12:00:00.000Z', 'Saturday'],
    ['on Sat', '2026-12-05T12:00:00.000Z', 'on Sat'],
    ['this Friday', '2026-12-04T12:00:00.000Z', 'this Friday'],
    ['on Thursday', '2026-12-03T12:00:00.000Z', 'on Thursday'], // today is Thursday: today included
    ['next Monday', '2026-12-07T12:00:00.000Z', 'next Monday'], // the Monday of next week
    ['next Thursday', '2026-12-10T12:00:00.000Z', 'next Thursday'],
    ['tomorrow', '2026-12-04T12:00:00.000Z', 'tomorrow'],
    ['the day after tomorrow', '2026-12-05T12:00:00.000Z', 'the day after tomorrow'],
    ['at the weekend', '2026-12-05T12:00:00.000Z', 'at the weekend'],
    ['next weekend', '2026-12-12T12:00:00.000Z', 'next weekend'],
  ])('"%s" with no time -> %s at 12:00, with a note', (text, iso, phrase) => {
    const result = read(text, thu1400);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.source).toBe('phrase');
    expect(result.phrase).toBe(phrase);
    expect(result.note).toBe('no time given; read as 12:00');
  });

  it('reads "at the weekend" on a Sunday as today', () => {
    expect(read('at the weekend', '2026-12-06T09:00').instant.toISOString()).toBe('2026-12-06T12:00:00.000Z');
  });

  it('reads "next Monday" asked on a Sunday as the next day (the Monday of next week)', () => {
    expect(read('next Monday at 9am', '2026-12-06T09:00').instant.toISOString()).toBe('2026-12-07T09:00:00.000Z');
  });

  it('needs a lead word or a time beside a three-letter day ("sat", "sun")', () => {
    expect(read('sat', thu1400).source).toBe('now');
    expect(read('Sat at 2am', thu1400).instant.toISOString()).toBe('2026-12-05T02:00:00.000Z');
  });

  it('says when a weekday and a date disagree, and reads the date', () => {
    const result = read('Friday 31 August 2026 at 10am', thu1400);
    expect(result.instant.toISOString()).toBe('2026-08-31T09:00:00.000Z');
    expect(result.note).toBe('31 Aug 2026 is a Monday, not a Friday; read as Mon 31 Aug');
  });
});

describe('understandTime: parts of the day', () => {
  it.each([
    // [text, asked (London), expected, source]
    ['in the morning', thu1400, '2026-12-04T09:00:00.000Z', 'phrase'],
    ['this afternoon', '2026-12-03T11:00', '2026-12-03T14:00:00.000Z', 'phrase'],
    ['this evening', thu1400, '2026-12-03T19:00:00.000Z', 'phrase'],
    ['evening', thu1400, '2026-12-03T19:00:00.000Z', 'phrase'],
    ['tonight', thu1400, '2026-12-03T22:00:00.000Z', 'phrase'],
    ['at night', thu1400, '2026-12-03T22:00:00.000Z', 'phrase'],
    ['overnight', thu1400, '2026-12-04T02:00:00.000Z', 'phrase'],
    ['overnight', '2026-12-03T01:00', '2026-12-03T02:00:00.000Z', 'phrase'],
    ['this morning', thu1400, '2026-12-03T09:00:00.000Z', 'phrase'], // over, but asked about
    ['last night', thu1400, '2026-12-02T22:00:00.000Z', 'phrase'],
  ])('"%s" asked at %s -> %s', (text, asked, iso, source) => {
    const result = read(text, asked);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.source).toBe(source);
    expect(result.note).toBeNull();
  });

  it.each([
    ['tonight', '2026-12-03T23:00', 'already night; read as now'],
    ['tonight', '2026-12-04T03:00', 'already night; read as now'],
    ['this evening', '2026-12-03T20:00', 'already the evening; read as now'],
    ['overnight', '2026-12-04T03:00', 'already the early hours; read as now'],
  ])('"%s" asked at %s means now (%s)', (text, asked, note) => {
    const result = read(text, asked);
    expect(result.instant.getTime()).toBe(london(asked).getTime());
    expect(result.source).toBe('now');
    expect(result.phrase).toBe(text);
    expect(result.note).toBe(note);
  });

  it.each([
    ['2am tonight', thu1400, '2026-12-04T02:00:00.000Z'],
    ['tonight at 1:30', thu1400, '2026-12-04T01:30:00.000Z'],
    ['tonight at 10', thu1400, '2026-12-03T22:00:00.000Z'],
    ['tonight at 9:30', thu1400, '2026-12-03T21:30:00.000Z'],
    ['tonight at 23:00', thu1400, '2026-12-03T23:00:00.000Z'],
    ['midnight tonight', thu1400, '2026-12-04T00:00:00.000Z'],
    ['twenty to 3 tonight', thu1400, '2026-12-04T02:40:00.000Z'],
    ['tonight at 2am', '2026-12-04T01:00', '2026-12-04T02:00:00.000Z'], // already the night: this one
    ['this evening at 7:15', thu1400, '2026-12-03T19:15:00.000Z'],
  ])('"%s" asked at %s -> %s (the coming night)', (text, asked, iso) => {
    expect(read(text, asked).instant.toISOString()).toBe(iso);
  });

  it('reads midnight with a day as the end of that day, and says so', () => {
    const result = read('Friday at midnight', thu1400);
    expect(result.instant.toISOString()).toBe('2026-12-05T00:00:00.000Z');
    expect(result.note).toBe('midnight read as the end of Fri 4 Dec');
  });
});

describe('understandTime: dates', () => {
  it.each([
    // [text, asked (London), expected]
    ['on 29 March', '2026-03-01T10:00', '2026-03-29T11:00:00.000Z'],
    ['29th March', '2026-03-01T10:00', '2026-03-29T11:00:00.000Z'],
    ['the 29th of March', '2026-03-01T10:00', '2026-03-29T11:00:00.000Z'],
    ['March 29', '2026-03-01T10:00', '2026-03-29T11:00:00.000Z'],
    ['29 Mar 2026', '2026-03-01T10:00', '2026-03-29T11:00:00.000Z'],
    ['29/03', '2026-03-01T10:00', '2026-03-29T11:00:00.000Z'],
    ['29/03/2026', '2026-03-01T10:00', '2026-03-29T11:00:00.000Z'],
    ['on 29 March', '2026-03-29T08:00', '2026-03-29T11:00:00.000Z'], // today included
    ['on 29 March', '2026-03-30T08:00', '2027-03-29T11:00:00.000Z'], // next year (BST again)
    ['31 Aug 2026', thu1400, '2026-08-31T11:00:00.000Z'], // a past date, as asked
    ['31/8', '2026-08-01T10:00', '2026-08-31T11:00:00.000Z'],
    ['25/12', thu1400, '2026-12-25T12:00:00.000Z'],
    ['25/12/26', thu1400, '2026-12-25T12:00:00.000Z'],
    ['Christmas Day', thu1400, '2026-12-25T12:00:00.000Z'],
    ['on Christmas Eve', thu1400, '2026-12-24T12:00:00.000Z'],
    ['Boxing Day', thu1400, '2026-12-26T12:00:00.000Z'],
    ['on 28 Dec', thu1400, '2026-12-28T12:00:00.000Z'],
    ['28th December', thu1400, '2026-12-28T12:00:00.000Z'],
    ["New Year's Day", thu1400, '2027-01-01T12:00:00.000Z'],
    ['New Year’s Day', thu1400, '2027-01-01T12:00:00.000Z'],
    ['on 29 Feb', thu1400, '2028-02-29T12:00:00.000Z'],
    ['2026-08-31', thu1400, '2026-08-31T11:00:00.000Z'],
  ])('"%s" asked at %s -> %s, 12:00 with a note', (text, asked, iso) => {
    const result = read(text, asked);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.source).toBe('phrase');
    expect(result.phrase).toBe(text);
    expect(result.note).toBe('no time given; read as 12:00');
  });

  it.each([
    ['at 10:00 on 31 August', '2026-08-01T10:00', '2026-08-31T09:00:00.000Z', 'at 10:00 on 31 August'],
    ['31/8 at 10am', '2026-08-01T10:00', '2026-08-31T09:00:00.000Z', '31/8 at 10am'],
    ['at 10am on 31 August', thu1400, '2027-08-31T09:00:00.000Z', 'at 10am on 31 August'],
    ['3pm on Christmas Day', thu1400, '2026-12-25T15:00:00.000Z', '3pm on Christmas Day'],
    ['at 9.30am on Christmas Eve', thu1400, '2026-12-24T09:30:00.000Z', 'at 9.30am on Christmas Eve'],
    ['New Years Eve at 11pm', thu1400, '2026-12-31T23:00:00.000Z', 'New Years Eve at 11pm'],
    ['at 7pm on 29/03/26', thu1400, '2026-03-29T18:00:00.000Z', 'at 7pm on 29/03/26'],
    ['on 28/12 at 0800', thu1400, '2026-12-28T08:00:00.000Z', 'on 28/12 at 0800'],
    ['Boxing Day at 9', thu1400, '2026-12-26T09:00:00.000Z', 'Boxing Day at 9'],
  ])('"%s" asked at %s -> %s', (text, asked, iso, phrase) => {
    const result = read(text, asked);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.phrase).toBe(phrase);
    expect(result.note).toBeNull();
  });

  it('ignores a date that does not exist', () => {
    expect(read('on 31/02', thu1400).source).toBe('now');
  });
});

describe('understandTime: relative times', () => {
  it.each([
    ['in an hour', thu1400, '2026-12-03T15:00:00.000Z'],
    ['in 2 hours', thu1400, '2026-12-03T16:00:00.000Z'],
    ['in two hours', thu1400, '2026-12-03T16:00:00.000Z'],
    ['in 30 minutes', thu1400, '2026-12-03T14:30:00.000Z'],
    ['in 90 mins', thu1400, '2026-12-03T15:30:00.000Z'],
    ['in half an hour', thu1400, '2026-12-03T14:30:00.000Z'],
    ['in an hour and a half', thu1400, '2026-12-03T15:30:00.000Z'],
    ['2 hours from now', thu1400, '2026-12-03T16:00:00.000Z'],
    ['in 3 days', thu1400, '2026-12-06T14:00:00.000Z'],
    ['in 2 weeks', thu1400, '2026-12-17T14:00:00.000Z'],
    ['in 3 days at 9am', thu1400, '2026-12-06T09:00:00.000Z'],
  ])('"%s" asked at %s -> %s', (text, asked, iso) => {
    const result = read(text, asked);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.source).toBe('phrase');
    expect(result.note).toBeNull();
  });

  it('adds real elapsed hours across the spring change: in an hour at 00:30 GMT is 02:30 BST', () => {
    const result = read('in an hour', '2026-03-29T00:30');
    expect(result.instant.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(DateTime.fromJSDate(result.instant, { zone }).toFormat('HH:mm ZZZZ')).toBe('02:30 GMT+1');
  });

  it('adds real elapsed hours across the autumn change: in an hour at the first 01:30 is the second 01:30', () => {
    const result = understandTime('in an hour', new Date('2026-10-25T00:30:00Z'), zone);
    expect(result.instant.toISOString()).toBe('2026-10-25T01:30:00.000Z');
  });

  it('adds calendar days keeping the wall time across the spring change', () => {
    // 12:00 GMT on Fri 27 Mar + 3 days = 12:00 BST on Mon 30 Mar (71 real hours).
    expect(read('in 3 days', '2026-03-27T12:00').instant.toISOString()).toBe('2026-03-30T11:00:00.000Z');
  });

  it('adds calendar days keeping the wall time across the autumn change', () => {
    // 12:00 BST on Fri 23 Oct + 3 days = 12:00 GMT on Mon 26 Oct (73 real hours).
    expect(read('in 3 days', '2026-10-23T12:00').instant.toISOString()).toBe('2026-10-26T12:00:00.000Z');
  });
});

describe('understandTime: clock changes', () => {
  it('says that 01:30 on 29 March 2026 does not exist, and reads it as 02:30 BST (as luxon does)', () => {
    const result = read('at 01:30 on 29 March', '2026-03-01T10:00');
    expect(result.instant.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(result.phrase).toBe('at 01:30 on 29 March');
    expect(result.note).toBe('01:30 does not exist on Sun 29 Mar 2026 (the clocks go forward); read as 02:30 BST');
    const luxon = DateTime.fromObject({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 }, { zone });
    expect(result.instant.getTime()).toBe(luxon.toMillis());
  });

  it('says that 01:30 on 25 October 2026 happens twice, and reads it as the first (BST)', () => {
    const result = read('at 01:30 on 25 October', '2026-10-01T10:00');
    expect(result.instant.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(result.note).toBe('01:30 happens twice on Sun 25 Oct 2026; read as 01:30 BST');
    const readings = DateTime.fromObject({ year: 2026, month: 10, day: 25, hour: 1, minute: 30 }, { zone })
      .getPossibleOffsets()
      .map((r) => r.toMillis());
    expect(readings).toHaveLength(2);
    expect(result.instant.getTime()).toBe(Math.min(...readings));
  });

  it.each([
    // [text, asked (London), expected, note]
    [
      'at 1:30am',
      '2026-03-28T14:00',
      '2026-03-29T01:30:00.000Z',
      '01:30 does not exist on Sun 29 Mar 2026 (the clocks go forward); read as 02:30 BST',
    ],
    ['at 2am', '2026-03-28T14:00', '2026-03-29T01:00:00.000Z', null], // 02:00 BST exists
    ['at 12:59am', '2026-03-28T14:00', '2026-03-29T00:59:00.000Z', null], // the last GMT minute
    ['at 01:30', '2026-10-24T14:00', '2026-10-25T00:30:00.000Z', '01:30 happens twice on Sun 25 Oct 2026; read as 01:30 BST'],
    ['at 2am', '2026-10-24T14:00', '2026-10-25T02:00:00.000Z', null], // GMT again
    ['at 00:59', '2026-10-24T14:00', '2026-10-24T23:59:00.000Z', null], // still BST
    ['tomorrow at 08:00', '2026-03-28T17:30', '2026-03-29T07:00:00.000Z', null], // Taunton closes 08:00 BST
    ['tomorrow at 17:00', '2026-10-24T17:30', '2026-10-25T17:00:00.000Z', null], // Taunton opens 17:00 GMT
    ['at 9am', '2026-07-01T12:00', '2026-07-02T08:00:00.000Z', null], // summer: BST
    ['at 17:00 on Monday', '2026-03-28T10:00', '2026-03-30T16:00:00.000Z', null], // first BST weekday
    ['at 17:00 on Monday', '2026-10-24T10:00', '2026-10-26T17:00:00.000Z', null], // first GMT weekday
    ['Sunday night', '2026-03-27T12:00', '2026-03-29T21:00:00.000Z', null],
    [
      'Saturday night at 1:30',
      '2026-03-27T12:00',
      '2026-03-29T01:30:00.000Z',
      '01:30 does not exist on Sun 29 Mar 2026 (the clocks go forward); read as 02:30 BST',
    ],
  ])('"%s" asked at %s -> %s', (text, asked, iso, note) => {
    const result = read(text, asked);
    expect(result.instant.toISOString()).toBe(iso);
    expect(result.note).toBe(note);
  });

  it('reads London wall-clock time for a message sent just after London midnight in summer (23:30Z)', () => {
    // 23:30Z on 1 July is 00:30 BST on Thu 2 July: "tomorrow" is Fri 3 July in London.
    const result = understandTime('tomorrow at 9am', new Date('2026-07-01T23:30:00Z'), zone);
    expect(result.instant.toISOString()).toBe('2026-07-03T08:00:00.000Z');
  });

  it('uses the zone it is given, not the host zone', () => {
    const asked = new Date('2026-07-01T12:00:00Z');
    expect(understandTime('at 2pm', asked, 'America/New_York').instant.toISOString()).toBe('2026-07-01T18:00:00.000Z');
    expect(understandTime('at 2pm', asked, 'UTC').instant.toISOString()).toBe('2026-07-01T14:00:00.000Z');
    expect(understandTime('at 2pm', asked, zone).instant.toISOString()).toBe('2026-07-01T13:00:00.000Z');
  });

  it('rejects an unknown zone and an invalid instant, even with no time phrase', () => {
    expect(() => understandTime('at 2am', london(thu1400), 'Europe/Atlantis')).toThrow(RangeError);
    expect(() => understandTime('hello', london(thu1400), 'Europe/Atlantis')).toThrow(RangeError);
    expect(() => understandTime('at 2am', new Date(Number.NaN), zone)).toThrow(RangeError);
  });
});

describe('understandTime: the hour that happens twice, asked during it (found by the property tests)', () => {
  it('reads a time 20 minutes ago in the repeated hour as its second reading today, not tomorrow', () => {
    // Sun 25 Oct 2026: 01:00-02:00 happens twice; 01:50 GMT is 00:50 UTC... asked at 01:50 GMT = 01:50 UTC.
    const asked = new Date('2026-10-25T01:50:00Z');
    const result = understandTime('Taunton at 01:30', asked, zone);
    expect(result.instant.toISOString()).toBe('2026-10-25T01:30:00.000Z');
    expect(result.note).toContain('happens twice');
    expect(result.note).toContain('01:30 GMT');
  });

  it('still reads it as the first (BST) reading when that has not passed', () => {
    const result = understandTime('Taunton at 01:30', new Date('2026-10-24T23:50:00Z'), zone);
    expect(result.instant.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(result.note).toContain('01:30 BST');
  });
});
