import { DateTime } from 'luxon';
import guideData from '../../content/guide.json';
import type { AvailabilityWindow } from '../../src/domain/guide/guide';
import { isOpenAt, windowState } from '../../src/domain/time/availability';
import { realGuide } from '../support/fixtures';
import { london, zone } from '../support/instants';

/** The bank holidays the bot ships with (the rules and content/bank-holidays.json). */
const holidays = realGuide().bankHolidays;

/** The guide's windows, as content/guide.json has them (checked below). */
const taunton: AvailabilityWindow = {
  label: 'Emergency (1700-0800; Monday to Sunday)',
  days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
  from: '17:00',
  to: '08:00',
  bankHolidays: 'as-usual',
};
const workingHours: AvailabilityWindow = {
  label: 'Normal working hours (Mon-Fri; 0900-1700)',
  days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
  from: '09:00',
  to: '17:00',
  bankHolidays: 'closed',
};

const windows: Record<'taunton' | 'workingHours', AvailabilityWindow> = { taunton, workingHours };

/** A London wall-clock time as a luxon DateTime in London. */
function local(iso: string): DateTime {
  const dt = DateTime.fromISO(iso, { zone });
  if (!dt.isValid) throw new Error(`bad test time ${iso}`);
  return dt;
}

/** windowState at an instant, with changesAt as a UTC ISO string for exact comparison. */
function stateAt(window: AvailabilityWindow, instant: Date): { open: boolean; changesAt: string | null } {
  const state = windowState(window, instant, zone, holidays);
  return { open: state.open, changesAt: state.changesAt ? state.changesAt.toUTC().toISO() : null };
}

/** The UTC ISO string of a London wall-clock time. */
function utc(localIso: string): string {
  return london(localIso).toISOString();
}

describe("the windows tested here are the guide's", () => {
  it('content/guide.json has these two windows', () => {
    expect(guideData.windows['taunton-emergency']).toEqual(taunton);
    expect(guideData.windows['normal-working-hours']).toEqual(workingHours);
  });
});

describe('isOpenAt: the Taunton emergency window (17:00-08:00 every day, overnight)', () => {
  it.each([
    ['2026-12-03T17:00', true, '17:00 exactly is inside (half-open window [from, to))'],
    ['2026-12-03T16:59:59', false, 'a second before 17:00'],
    ['2026-12-03T16:59:59.999', false, 'a millisecond before 17:00'],
    ['2026-12-03T20:00', true, 'evening'],
    ['2026-12-03T23:59:59', true, 'just before midnight'],
    ['2026-12-04T00:00', true, "midnight belongs to the previous evening's window"],
    ['2026-12-04T02:00', true, 'small hours'],
    ['2026-12-04T07:59', true, 'a minute before 08:00'],
    ['2026-12-04T07:59:59.999', true, 'a millisecond before 08:00'],
    ['2026-12-04T08:00', false, '08:00 exactly is outside'],
    ['2026-12-04T12:00', false, 'midday'],
    ['2026-12-05T03:00', true, 'Saturday night (the window runs every day)'],
    ['2026-12-06T12:00', false, 'Sunday midday'],
    ['2026-12-25T20:00', true, 'Christmas Day evening: bank holidays as usual'],
    ['2026-12-25T12:00', false, 'Christmas Day midday'],
    ['2026-12-26T02:00', true, 'the small hours after Christmas Day'],
  ])('%s -> %s (%s)', (at, open) => {
    expect(isOpenAt(taunton, local(at), holidays)).toBe(open);
  });
});

describe('isOpenAt: normal working hours (Mon-Fri 09:00-17:00, closed on bank holidays)', () => {
  it.each([
    ['2026-12-03T09:00', true, 'Thursday 09:00 exactly is inside'],
    ['2026-12-03T08:59:59', false, 'a second before 09:00'],
    ['2026-12-03T12:00', true, 'Thursday midday'],
    ['2026-12-03T16:59:59.999', true, 'a millisecond before 17:00'],
    ['2026-12-03T17:00', false, '17:00 exactly is outside'],
    ['2026-12-03T02:00', false, 'the small hours'],
    ['2026-12-04T10:00', true, 'Friday'],
    ['2026-12-05T10:00', false, 'Saturday'],
    ['2026-12-06T10:00', false, 'Sunday'],
    ['2026-12-07T10:00', true, 'Monday'],
    ['2026-08-31T10:00', false, 'summer bank holiday Monday'],
    ['2026-09-01T10:00', true, 'the Tuesday after'],
    ['2026-12-24T10:00', true, 'Christmas Eve is an ordinary working day'],
    ['2026-12-25T10:00', false, 'Christmas Day (Friday)'],
    ['2026-12-28T10:00', false, 'Monday 28 December, the Boxing Day substitute'],
    ['2026-12-29T10:00', true, 'Tuesday 29 December'],
    ['2026-04-03T10:00', false, 'Good Friday'],
    ['2026-04-06T10:00', false, 'Easter Monday'],
    ['2026-01-01T10:00', false, "New Year's Day"],
    ['2022-09-19T10:00', false, 'the state funeral (a one-off day)'],
    ['2023-05-08T10:00', false, 'the coronation (a one-off day)'],
    ['2020-05-04T10:00', true, 'Monday 4 May 2020 (the early May bank holiday was moved to Friday 8 May)'],
    ['2020-05-08T10:00', false, 'Friday 8 May 2020 (VE Day 75)'],
  ])('%s -> %s (%s)', (at, open) => {
    expect(isOpenAt(workingHours, local(at), holidays)).toBe(open);
  });
});

describe('isOpenAt: an overnight window that is closed on bank holidays and some days', () => {
  // Not one of the guide's windows: checks that the early-morning part belongs to the previous day.
  const friSatNights: AvailabilityWindow = {
    label: 'Friday and Saturday nights',
    days: ['Fri', 'Sat'],
    from: '22:00',
    to: '06:00',
    bankHolidays: 'closed',
  };

  it.each([
    ['2026-12-04T22:00', true, 'Friday 22:00'],
    ['2026-12-05T03:00', true, 'Saturday 03:00, part of Friday night'],
    ['2026-12-05T06:00', false, 'Saturday 06:00'],
    ['2026-12-06T03:00', true, 'Sunday 03:00, part of Saturday night'],
    ['2026-12-06T22:00', false, 'Sunday 22:00'],
    ['2026-12-07T03:00', false, 'Monday 03:00, part of Sunday night'],
    ['2026-12-03T23:00', false, 'Thursday 23:00'],
    ['2026-12-25T23:00', false, 'Christmas Day (Friday) night: closed on bank holidays'],
    ['2026-12-26T03:00', false, 'the small hours of Saturday 26th belong to Christmas night'],
    ['2026-12-26T23:00', true, 'Saturday 26 December is not itself a bank holiday'],
  ])('%s -> %s (%s)', (at, open) => {
    expect(isOpenAt(friSatNights, local(at), holidays)).toBe(open);
  });
});

describe('windowState: state and next change, in London time', () => {
  it.each([
    // [label, window, at (London wall clock), open, changesAt (London wall clock)]
    ['Taunton at 08:30: opens at 17:00 the same day', taunton, '2026-12-03T08:30', false, '2026-12-03T17:00'],
    ['Taunton at 02:00: closes at 08:00 the same day', taunton, '2026-12-03T02:00', true, '2026-12-03T08:00'],
    ['Taunton at 17:00 exactly: open, closes 08:00 tomorrow', taunton, '2026-12-03T17:00', true, '2026-12-04T08:00'],
    ['Taunton at 08:00 exactly: closed, opens 17:00', taunton, '2026-12-03T08:00', false, '2026-12-03T17:00'],
    ['Taunton at 23:59: closes 08:00 tomorrow (midnight is no change)', taunton, '2026-12-03T23:59', true, '2026-12-04T08:00'],
    ['Taunton at 00:00: closes 08:00', taunton, '2026-12-04T00:00', true, '2026-12-04T08:00'],
    ['Taunton Christmas Day 12:00: opens 17:00 as usual', taunton, '2026-12-25T12:00', false, '2026-12-25T17:00'],
    ['working hours Thursday 08:30: opens 09:00', workingHours, '2026-12-03T08:30', false, '2026-12-03T09:00'],
    ['working hours Thursday 09:00: open, closes 17:00', workingHours, '2026-12-03T09:00', true, '2026-12-03T17:00'],
    ['working hours Thursday 17:00: closed, opens Friday 09:00', workingHours, '2026-12-03T17:00', false, '2026-12-04T09:00'],
    ['working hours Friday 17:30: opens Monday 09:00', workingHours, '2026-12-04T17:30', false, '2026-12-07T09:00'],
    ['working hours Saturday: opens Monday 09:00', workingHours, '2026-12-05T11:00', false, '2026-12-07T09:00'],
    ['working hours Friday before the August bank holiday', workingHours, '2026-08-28T17:30', false, '2026-09-01T09:00'],
    ['working hours on the August bank holiday itself', workingHours, '2026-08-31T10:00', false, '2026-09-01T09:00'],
    ['working hours Christmas Eve (Thursday) 17:30', workingHours, '2026-12-24T17:30', false, '2026-12-29T09:00'],
    ['working hours Christmas Eve 10:00: closes 17:00', workingHours, '2026-12-24T10:00', true, '2026-12-24T17:00'],
    ['working hours Maundy Thursday 17:30: opens Tuesday after Easter', workingHours, '2026-04-02T17:30', false, '2026-04-07T09:00'],
    ['working hours Thursday 24 Dec 2027 17:30: opens Wednesday 29 Dec', workingHours, '2027-12-24T17:30', false, '2027-12-29T09:00'],
    ['working hours 1 June 2022 17:30: Jubilee days, opens Monday 6 June', workingHours, '2022-06-01T17:30', false, '2022-06-06T09:00'],
  ])('%s', (_label, window, at, open, changesAt) => {
    expect(stateAt(window, london(at))).toEqual({ open, changesAt: utc(changesAt) });
  });

  it("gives changesAt as a luxon DateTime in the trust's zone", () => {
    const state = windowState(workingHours, london('2026-08-28T17:30'), zone, holidays);
    expect(state.changesAt).not.toBeNull();
    expect(state.changesAt!.zoneName).toBe('Europe/London');
    expect(state.changesAt!.toISO()).toBe('2026-09-01T09:00:00.000+01:00');
  });

  it('changes state exactly at changesAt and not a moment before', () => {
    const cases: [AvailabilityWindow, string][] = [
      [taunton, '2026-12-03T08:30'],
      [taunton, '2026-12-03T02:00'],
      [workingHours, '2026-12-04T17:30'],
      [workingHours, '2026-12-24T17:30'],
      [workingHours, '2026-12-24T10:00'],
    ];
    for (const [window, at] of cases) {
      const { open, changesAt } = windowState(window, london(at), zone, holidays);
      const flip = changesAt!.toJSDate();
      expect(windowState(window, new Date(flip.getTime() - 1), zone, holidays).open).toBe(open);
      expect(windowState(window, flip, zone, holidays).open).toBe(!open);
    }
  });

  it('returns changesAt null when the window never changes within two weeks', () => {
    const never: AvailabilityWindow = { ...workingHours, days: [] };
    expect(stateAt(never, london('2026-12-03T10:00'))).toEqual({ open: false, changesAt: null });
  });
});

describe('clock changes (2026: 29 March 01:00 GMT -> 02:00 BST; 25 October 02:00 BST -> 01:00 GMT)', () => {
  it.each<[string, keyof typeof windows, boolean, string]>([
    ['2026-07-01T16:30:00Z', 'taunton', true, '17:30 BST: Taunton emergency window open'],
    ['2026-07-01T15:59:59Z', 'taunton', false, '16:59:59 BST'],
    ['2026-07-01T16:00:00Z', 'taunton', true, '17:00 BST exactly'],
    ['2026-07-01T07:30:00Z', 'taunton', false, '08:30 BST: closed'],
    ['2026-07-01T06:59:59Z', 'taunton', true, '07:59:59 BST: still open'],
    ['2026-07-01T07:00:00Z', 'taunton', false, '08:00 BST exactly: closed'],
    ['2026-12-01T16:30:00Z', 'taunton', false, '16:30 GMT in winter: closed'],
    ['2026-12-01T17:00:00Z', 'taunton', true, '17:00 GMT'],
    ['2026-12-01T07:30:00Z', 'taunton', true, '07:30 GMT'],
    ['2026-07-01T08:30:00Z', 'workingHours', true, '09:30 BST: working hours'],
    ['2026-07-01T07:30:00Z', 'workingHours', false, '08:30 BST: before working hours'],
    ['2026-07-01T16:30:00Z', 'workingHours', false, '17:30 BST: after working hours'],
    ['2026-07-01T08:00:00Z', 'workingHours', true, '09:00 BST exactly'],
    ['2026-12-01T08:30:00Z', 'workingHours', false, '08:30 GMT in winter'],
    ['2026-12-01T09:00:00Z', 'workingHours', true, '09:00 GMT'],
    ['2026-08-30T23:30:00Z', 'workingHours', false, '00:30 BST Monday 31 Aug, a bank holiday (still Sunday in UTC)'],
    ['2026-09-01T08:00:00Z', 'workingHours', true, '09:00 BST Tuesday 1 Sep'],
    ['2026-03-29T00:59:59Z', 'taunton', true, '00:59:59 GMT on change night'],
    ['2026-03-29T01:00:00Z', 'taunton', true, '02:00 BST on change night'],
    ['2026-03-29T06:59:59Z', 'taunton', true, '07:59:59 BST on 29 March'],
    ['2026-03-29T07:00:00Z', 'taunton', false, '08:00 BST on 29 March'],
    ['2026-03-29T07:30:00Z', 'taunton', false, '08:30 BST on 29 March (07:30 in UTC)'],
    ['2026-10-25T07:30:00Z', 'taunton', true, '07:30 GMT on 25 October'],
    ['2026-10-25T08:00:00Z', 'taunton', false, '08:00 GMT on 25 October'],
    ['2026-10-24T16:00:00Z', 'taunton', true, '17:00 BST on 24 October'],
    ['2026-10-25T16:30:00Z', 'taunton', false, '16:30 GMT on 25 October'],
  ])('%s: %s open=%s (%s)', (iso, name, open) => {
    expect(windowState(windows[name], new Date(iso), zone, holidays).open).toBe(open);
  });

  it('closes Taunton at 08:00 BST (07:00Z) on 29 March when asked at 17:30 GMT on Saturday 28 March', () => {
    expect(stateAt(taunton, new Date('2026-03-28T17:30:00Z'))).toEqual({ open: true, changesAt: '2026-03-29T07:00:00.000Z' });
    expect(stateAt(taunton, london('2026-03-28T17:30'))).toEqual({ open: true, changesAt: '2026-03-29T07:00:00.000Z' });
  });

  it('closes Taunton at 08:00 GMT (08:00Z) on 25 October when asked at 17:30 BST on Saturday 24 October', () => {
    expect(stateAt(taunton, new Date('2026-10-24T16:30:00Z'))).toEqual({ open: true, changesAt: '2026-10-25T08:00:00.000Z' });
    expect(stateAt(taunton, london('2026-10-24T17:30'))).toEqual({ open: true, changesAt: '2026-10-25T08:00:00.000Z' });
  });

  it('opens Taunton at 17:00 BST on 29 March (16:00Z) and 17:00 GMT on 25 October (17:00Z)', () => {
    expect(stateAt(taunton, new Date('2026-03-29T09:00:00Z'))).toEqual({ open: false, changesAt: '2026-03-29T16:00:00.000Z' });
    expect(stateAt(taunton, new Date('2026-10-25T09:00:00Z'))).toEqual({ open: false, changesAt: '2026-10-25T17:00:00.000Z' });
  });

  it('puts the next working hours after a change weekend at 09:00 local (Friday 27 March -> Monday 30 March 08:00Z)', () => {
    expect(stateAt(workingHours, new Date('2026-03-27T17:30:00Z'))).toEqual({ open: false, changesAt: '2026-03-30T08:00:00.000Z' });
    expect(stateAt(workingHours, new Date('2026-10-23T16:30:00Z'))).toEqual({ open: false, changesAt: '2026-10-26T09:00:00.000Z' });
  });

  it('treats both 01:30s of 25 October 2026 (00:30Z BST and 01:30Z GMT) as inside the emergency window', () => {
    for (const iso of ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z']) {
      const state = stateAt(taunton, new Date(iso));
      expect([iso, state]).toEqual([iso, { open: true, changesAt: '2026-10-25T08:00:00.000Z' }]);
    }
    // Both instants read as 01:30 London time.
    expect(DateTime.fromISO('2026-10-25T00:30:00Z').setZone(zone).toFormat('HH:mm ZZ')).toBe('01:30 +01:00');
    expect(DateTime.fromISO('2026-10-25T01:30:00Z').setZone(zone).toFormat('HH:mm ZZ')).toBe('01:30 +00:00');
  });

  it('is open through the missing hour of 29 March (01:30 London does not exist; london() moves it to 02:30 BST)', () => {
    expect(london('2026-03-29T01:30').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(stateAt(taunton, london('2026-03-29T01:30'))).toEqual({ open: true, changesAt: '2026-03-29T07:00:00.000Z' });
  });

  it('keeps the state constant up to changesAt and flips at it, sampled every 30 minutes around both changes', () => {
    const step = 30 * 60 * 1000;
    const day = 24 * 3600 * 1000;
    const starts = ['2026-03-23T00:00:00Z', '2026-10-19T00:00:00Z', '2026-08-27T00:00:00Z', '2026-12-22T00:00:00Z'];
    for (const window of [taunton, workingHours]) {
      for (const start of starts) {
        const from = new Date(start).getTime();
        // The state at every sample over 16 days, computed once (from London wall-clock time).
        const states: boolean[] = [];
        for (let i = 0; i < (16 * day) / step; i += 1)
          states.push(isOpenAt(window, DateTime.fromMillis(from + i * step, { zone }), holidays));
        for (let i = 0; i < (9 * day) / step; i += 1) {
          const t = from + i * step;
          const { open, changesAt } = windowState(window, new Date(t), zone, holidays);
          const where = `${window.label} at ${new Date(t).toISOString()} (changesAt ${changesAt?.toISO() ?? 'null'})`;
          expect([where, open]).toEqual([where, states[i]]);
          expect(changesAt).not.toBeNull();
          const flip = changesAt!.toMillis();
          expect([where, flip > t]).toEqual([where, true]);
          // Every sample strictly before the change has the same state...
          for (let j = i + 1; from + j * step < flip; j += 1) {
            if (states[j] !== open) throw new Error(`${where}, but ${new Date(from + j * step).toISOString()} is ${String(states[j])}`);
          }
          // ...and the change itself is a flip.
          expect([where, windowState(window, changesAt!.toJSDate(), zone, holidays).open]).toEqual([where, !open]);
        }
      }
    }
  }, 60_000);
});

/**
 * Edges inside the hour a clock change skips or repeats (01:00-02:00 London): the state also flips
 * at the clock change itself, and a repeated wall time is an edge twice. Not reachable with the
 * guide's windows (edges 08:00, 09:00, 17:00), but the schema accepts any time.
 */
describe('windowState with an edge inside a clock-change hour', () => {
  const all: AvailabilityWindow['days'] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

  it('(control) the window 01:30-03:00 is open at 02:00 BST, the instant the clocks go forward', () => {
    const window: AvailabilityWindow = { label: 'x', days: all, from: '01:30', to: '03:00', bankHolidays: 'as-usual' };
    expect(windowState(window, new Date('2026-03-29T00:59:00Z'), zone, holidays).open).toBe(false);
    expect(windowState(window, new Date('2026-03-29T01:00:00Z'), zone, holidays).open).toBe(true);
  });

  it('spring forward: 01:30-03:00 opens at 01:00Z (02:00 BST)', () => {
    const window: AvailabilityWindow = { label: 'x', days: all, from: '01:30', to: '03:00', bankHolidays: 'as-usual' };
    expect(stateAt(window, new Date('2026-03-29T00:59:00Z'))).toEqual({ open: false, changesAt: '2026-03-29T01:00:00.000Z' });
  });

  it('(control) the window 22:00-01:30 is closed at 01:30 BST and open again at 01:00 GMT', () => {
    const window: AvailabilityWindow = { label: 'x', days: all, from: '22:00', to: '01:30', bankHolidays: 'as-usual' };
    expect(windowState(window, new Date('2026-10-25T00:45:00Z'), zone, holidays).open).toBe(false); // 01:45 BST
    expect(windowState(window, new Date('2026-10-25T01:15:00Z'), zone, holidays).open).toBe(true); // 01:15 GMT
  });

  it('fall back: 22:00-01:30 first closes at 01:30 BST (00:30Z)', () => {
    const window: AvailabilityWindow = { label: 'x', days: all, from: '22:00', to: '01:30', bankHolidays: 'as-usual' };
    expect(stateAt(window, new Date('2026-10-25T00:15:00Z'))).toEqual({ open: true, changesAt: '2026-10-25T00:30:00.000Z' });
  });

  it('fall back: 22:00-01:30, closed at 01:45 BST, reopens at 01:00 GMT (01:00Z)', () => {
    const window: AvailabilityWindow = { label: 'x', days: all, from: '22:00', to: '01:30', bankHolidays: 'as-usual' };
    expect(stateAt(window, new Date('2026-10-25T00:45:00Z'))).toEqual({ open: false, changesAt: '2026-10-25T01:00:00.000Z' });
  });
});
