import { DateTime } from 'luxon';
import { describeChange, describeInstant, toLocal, zoneAbbreviation } from '../../src/domain/time/wall-clock';
import { london, zone } from '../support/instants';

/** A London wall-clock time as a luxon DateTime in London. */
function local(iso: string): DateTime {
  const dt = DateTime.fromISO(iso, { zone });
  if (!dt.isValid) throw new Error(`bad test time ${iso}`);
  return dt;
}

describe('toLocal', () => {
  it('gives the London wall-clock time of an instant, in summer and in winter', () => {
    expect(toLocal(new Date('2026-07-01T16:30:00Z'), zone).toISO()).toBe('2026-07-01T17:30:00.000+01:00');
    expect(toLocal(new Date('2026-12-01T16:30:00Z'), zone).toISO()).toBe('2026-12-01T16:30:00.000+00:00');
    expect(toLocal(new Date('2026-07-01T16:30:00Z'), zone).zoneName).toBe('Europe/London');
  });
});

describe('describeInstant', () => {
  it.each([
    ['2026-12-03T02:00:00Z', '02:00 on Thu 3 Dec', 'winter: UTC is GMT'],
    ['2026-07-01T16:30:00Z', '17:30 on Wed 1 Jul', 'summer: BST is UTC+1'],
    ['2026-07-01T23:30:00Z', '00:30 on Thu 2 Jul', 'summer: already the next day in London'],
    ['2026-12-31T23:59:00Z', '23:59 on Thu 31 Dec', 'end of year'],
    ['2027-01-01T00:00:00Z', '00:00 on Fri 1 Jan', 'midnight is 00:00, not 24:00'],
    ['2026-12-03T14:05:59Z', '14:05 on Thu 3 Dec', '24-hour clock, seconds dropped'],
    ['2026-03-29T00:59:00Z', '00:59 on Sun 29 Mar', 'the last GMT minute before the spring change'],
    ['2026-03-29T01:00:00Z', '02:00 on Sun 29 Mar', 'the first BST minute: 01:00-01:59 never shows'],
    ['2026-03-29T07:00:00Z', '08:00 on Sun 29 Mar', '08:00 BST on change day'],
    ['2026-10-25T00:30:00Z', '01:30 on Sun 25 Oct', 'the first 01:30 (BST)'],
    ['2026-10-25T01:30:00Z', '01:30 on Sun 25 Oct', 'the second 01:30 (GMT)'],
    ['2026-10-25T08:00:00Z', '08:00 on Sun 25 Oct', '08:00 GMT on change day'],
  ])('%s -> "%s" (%s)', (iso, text) => {
    expect(describeInstant(new Date(iso), zone)).toBe(text);
  });

  it('describes the instants of london() as the wall-clock time they were made from', () => {
    expect(describeInstant(london('2026-12-03T02:00'), zone)).toBe('02:00 on Thu 3 Dec');
    expect(describeInstant(london('2026-08-31T10:00'), zone)).toBe('10:00 on Mon 31 Aug');
    expect(describeInstant(london('2026-05-04T09:15'), zone)).toBe('09:15 on Mon 4 May');
  });

  it('abbreviates every month and weekday the en-GB way', () => {
    const days = ['2026-01-05', '2026-02-03', '2026-03-04', '2026-04-02', '2026-05-01', '2026-06-06', '2026-07-05'];
    expect(days.map((d) => describeInstant(london(`${d}T12:00`), zone))).toEqual([
      '12:00 on Mon 5 Jan',
      '12:00 on Tue 3 Feb',
      '12:00 on Wed 4 Mar',
      '12:00 on Thu 2 Apr',
      '12:00 on Fri 1 May',
      '12:00 on Sat 6 Jun',
      '12:00 on Sun 5 Jul',
    ]);
    // en-GB (CLDR 38 and later, so every supported Node) abbreviates September as "Sept", not "Sep".
    const later = ['2026-08-01', '2026-09-01', '2026-10-01', '2026-11-01', '2026-12-01'];
    expect(later.map((d) => describeInstant(london(`${d}T12:00`), zone))).toEqual([
      '12:00 on Sat 1 Aug',
      '12:00 on Tue 1 Sept',
      '12:00 on Thu 1 Oct',
      '12:00 on Sun 1 Nov',
      '12:00 on Tue 1 Dec',
    ]);
  });

  it('uses the zone it is given, not the host zone', () => {
    expect(describeInstant(new Date('2026-07-01T16:30:00Z'), 'UTC')).toBe('16:30 on Wed 1 Jul');
    expect(describeInstant(new Date('2026-07-01T16:30:00Z'), 'America/New_York')).toBe('12:30 on Wed 1 Jul');
  });
});

describe('zoneAbbreviation', () => {
  it.each([
    ['2026-12-03T02:00:00Z', 'GMT'],
    ['2026-07-01T16:30:00Z', 'BST'],
    ['2026-03-29T00:59:59Z', 'GMT'],
    ['2026-03-29T01:00:00Z', 'BST'],
    ['2026-10-25T00:30:00Z', 'BST'], // the first 01:30
    ['2026-10-25T00:59:59Z', 'BST'],
    ['2026-10-25T01:00:00Z', 'GMT'],
    ['2026-10-25T01:30:00Z', 'GMT'], // the second 01:30
  ])('%s is %s in London', (iso, abbreviation) => {
    expect(zoneAbbreviation(new Date(iso), zone)).toBe(abbreviation);
  });

  it("gives GMT and BST for the london() helper's instants", () => {
    expect(zoneAbbreviation(london('2026-12-03T02:00'), zone)).toBe('GMT');
    expect(zoneAbbreviation(london('2026-08-31T10:00'), zone)).toBe('BST');
  });

  it('gives UTC for the UTC zone', () => {
    expect(zoneAbbreviation(new Date('2026-07-01T16:30:00Z'), 'UTC')).toBe('UTC');
  });
});

describe('describeChange', () => {
  it.each([
    // [now (London), at (London), text]
    ['2026-12-03T08:30', '2026-12-03T17:00', '17:00 today'],
    ['2026-12-03T02:00', '2026-12-03T08:00', '08:00 today'],
    ['2026-12-03T00:00', '2026-12-03T23:59', '23:59 today'],
    ['2026-12-03T17:30', '2026-12-04T08:00', '08:00 tomorrow (Fri 4 Dec)'],
    ['2026-12-03T23:59:59.999', '2026-12-04T00:00', '00:00 tomorrow (Fri 4 Dec)'],
    ['2026-12-04T00:00', '2026-12-05T23:59', '23:59 tomorrow (Sat 5 Dec)'],
    ['2026-12-04T17:30', '2026-12-07T09:00', '09:00 on Mon 7 Dec'],
    ['2026-12-31T17:30', '2027-01-01T08:00', '08:00 tomorrow (Fri 1 Jan)'],
    ['2026-12-24T17:30', '2026-12-29T09:00', '09:00 on Tue 29 Dec'],
    ['2026-12-03T10:00', '2026-12-17T10:00', '10:00 on Thu 17 Dec'],
    // en-GB abbreviates September as "Sept" (see describeInstant).
    ['2026-08-28T17:30', '2026-09-01T09:00', '09:00 on Tue 1 Sept'],
  ])('now %s, change at %s -> "%s"', (now, at, text) => {
    expect(describeChange(local(at), london(now), zone)).toBe(text);
  });

  it('counts days by the London calendar, not UTC (summer, just after London midnight)', () => {
    // 23:30Z on 1 July is 00:30 BST on 2 July: 08:00 BST on 2 July is "today" in London, "tomorrow" in UTC.
    expect(describeChange(local('2026-07-02T08:00'), new Date('2026-07-01T23:30:00Z'), zone)).toBe('08:00 today');
    // 22:30Z on 1 July is 23:30 BST on 1 July: 00:30 BST on 2 July (23:30Z on 1 July) is "tomorrow".
    expect(describeChange(local('2026-07-02T00:30'), new Date('2026-07-01T22:30:00Z'), zone)).toBe('00:30 tomorrow (Thu 2 Jul)');
  });

  it('says the change in London time whatever zone the DateTime carries', () => {
    const atUtc = DateTime.fromISO('2026-07-01T16:00:00Z', { zone: 'utc' });
    expect(describeChange(atUtc, new Date('2026-07-01T09:00:00Z'), zone)).toBe('17:00 today');
    const atNewYork = DateTime.fromISO('2026-07-01T16:00:00Z').setZone('America/New_York');
    expect(describeChange(atNewYork, new Date('2026-07-01T09:00:00Z'), zone)).toBe('17:00 today');
  });

  it('handles the spring change night (23-hour day)', () => {
    // Saturday 28 March 17:30 GMT; the Taunton window closes at 08:00 BST on Sunday 29 March (07:00Z).
    const at = DateTime.fromISO('2026-03-29T07:00:00Z').setZone(zone);
    expect(describeChange(at, new Date('2026-03-28T17:30:00Z'), zone)).toBe('08:00 tomorrow (Sun 29 Mar)');
    // Asked at 00:30 GMT on the Sunday: the same instant is "today".
    expect(describeChange(at, new Date('2026-03-29T00:30:00Z'), zone)).toBe('08:00 today');
    // Asked at 23:30 BST on the Sunday: 08:00 BST Monday is "tomorrow".
    expect(describeChange(local('2026-03-30T08:00'), new Date('2026-03-29T22:30:00Z'), zone)).toBe('08:00 tomorrow (Mon 30 Mar)');
  });

  it('handles the autumn change night (25-hour day)', () => {
    // Saturday 24 October 17:30 BST; the window closes at 08:00 GMT on Sunday 25 October (08:00Z).
    const at = DateTime.fromISO('2026-10-25T08:00:00Z').setZone(zone);
    expect(describeChange(at, new Date('2026-10-24T16:30:00Z'), zone)).toBe('08:00 tomorrow (Sun 25 Oct)');
    // Asked at either 01:30 of the night: "today".
    expect(describeChange(at, new Date('2026-10-25T00:30:00Z'), zone)).toBe('08:00 today');
    expect(describeChange(at, new Date('2026-10-25T01:30:00Z'), zone)).toBe('08:00 today');
    // Asked at 23:30 GMT on the Sunday: midnight and 08:00 on Monday are "tomorrow".
    expect(describeChange(local('2026-10-26T00:00'), new Date('2026-10-25T23:30:00Z'), zone)).toBe('00:00 tomorrow (Mon 26 Oct)');
    // Asked at 23:30 BST on Saturday 24 October: 09:00 on Monday, across the 25-hour day, is "on".
    expect(describeChange(local('2026-10-26T09:00'), new Date('2026-10-24T22:30:00Z'), zone)).toBe('09:00 on Mon 26 Oct');
  });
});
