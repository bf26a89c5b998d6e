/**
 * Property-based tests of the free-text question answerer (answerQuestion) and of the text turn
 * (respond with a text input). For any text (hostile Unicode, markup, template syntax, fake
 * contacts, 12,000-character messages) sent at any instant from 1990 to 2100 (clock changes and the
 * guide's window edges included), they prove: nothing throws; the result is one of the four kinds;
 * the time answered for is a real instant, never more than an hour before the message; every
 * button leads somewhere; the turn always replies, with cards Teams accepts, no "${" left over; and
 * no reply ever carries a phone number, extension, bleep, e-mail address or link that is not in
 * content/guide.json. A clock time ("Taunton at HH:MM") asked at any instant, around the clock
 * changes especially, is read as luxon and the documented rule say (the next such London time not
 * more than 59 minutes past) and said back with the right day and GMT/BST.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { respond, type ConversationDeps } from '../../src/conversation/conversation';
import { allContacts } from '../../src/domain/guide/guide';
import { answerQuestion, buildKnowledge, type QuestionResult } from '../../src/domain/questions/answer-question';
import { isStepId, parseNavigation, payloadFor } from '../../src/domain/tree/navigation';
import { loadCorpus } from '../questions/corpus';
import { realCards, realGuide } from '../support/fixtures';
import { london, zone } from '../support/instants';
import {
  allProblems,
  anyText,
  clockChangeInstant,
  fallBackInstant,
  foreignContacts,
  instantArb,
  nastyFragments,
  runs,
} from './property-support';

const guide = realGuide();
const knowledge = buildKnowledge(guide, zone);
const deps: ConversationDeps = {
  access: { mode: 'development', allowedTenantIds: [], retrievalAllowedUsers: [] },
  guide,
  knowledge,
  cards: realCards(),
  zone,
};
const guideContactValues = new Set(allContacts(guide).map((c) => c.value));
const hourMs = 3_600_000;

/** The problems with one answering result (an empty list is right). */
function resultProblems(result: QuestionResult, asked: Date): string[] {
  const problems: string[] = [];
  if (!['answer', 'clarify', 'unmatched', 'declined'].includes(result.kind)) problems.push(`kind ${String(result.kind)}`);
  if (result.kind === 'answer' || result.kind === 'clarify') {
    if (!result.understood.startsWith('I read this as: ')) problems.push(`understood: ${result.understood}`);
    // The time is said back in UK time, named GMT or BST.
    if (!/ at \d\d:\d\d on \w{3} \d{1,2} \w{3,4} \((GMT|BST)\)/.test(result.understood))
      problems.push(`time not said back: ${result.understood}`);
    const parsed = parseNavigation(JSON.parse(JSON.stringify(payloadFor(result.position))));
    if (!parsed.ok) problems.push(`its position is not a usable button: ${JSON.stringify(result.position)}`);
    const at = Date.parse(result.position.at ?? '');
    if (Number.isNaN(at)) problems.push(`no time asked about: ${String(result.position.at)}`);
    // A phrase more than an hour in the past is when the scan happened; the answer is for now.
    else if (at < asked.getTime() - hourMs)
      problems.push(`answered for ${result.position.at}, before the message (${asked.toISOString()})`);
  }
  if (result.kind === 'answer') {
    for (const s of result.view.sections)
      for (const c of s.contacts) if (!guideContactValues.has(c.value)) problems.push(`contact ${c.value}`);
    for (const r of result.view.related) if (!isStepId(r.target)) problems.push(`related ${String(r.target)}`);
  }
  if (result.kind === 'clarify') {
    if (result.choices.length === 0) problems.push('a question back with no choices');
    for (const c of result.choices) if (!isStepId(c.target)) problems.push(`choice ${String(c.target)}`);
  }
  problems.push(...foreignContacts(JSON.stringify(result)).map((c) => `a contact not in the guide: ${c}`));
  return problems;
}

describe('answering a free-text question (property-based)', () => {
  it("never throws, and answers with the guide's contacts only, for the time asked about or later", () => {
    fc.assert(
      fc.property(anyText, instantArb, (text, asked) => {
        expect(resultProblems(answerQuestion(text, asked, knowledge), asked)).toEqual([]);
      }),
      runs(500),
    );
  });

  it('is a pure function of the text and the instant', () => {
    fc.assert(
      fc.property(anyText, instantArb, (text, asked) => {
        const first = answerQuestion(text, asked, knowledge);
        const again = answerQuestion(text, new Date(asked.getTime()), knowledge);
        expect(JSON.stringify(again)).toBe(JSON.stringify(first));
      }),
      runs(200),
    );
  });

  it('a corpus question with hostile text around it is still answered without a foreign contact', () => {
    const corpus = loadCorpus();
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.array(fc.constantFrom(...nastyFragments), { maxLength: 4 }),
        fc.array(fc.constantFrom(...nastyFragments), { maxLength: 4 }),
        (c, before, after) => {
          const asked = london(c.asked);
          const text = `${before.join(' ')} ${c.q} ${after.join(' ')}`;
          expect(resultProblems(answerQuestion(text, asked, knowledge), asked)).toEqual([]);
        },
      ),
      runs(300),
    );
  });
});

/**
 * The oracle for a bare 24-hour clock time, from luxon and the answerer's documented rule: "the first
 * of the wall-clock times (today, then the next days) not more than 59 minutes past". A time the
 * clocks skip is read as luxon reads it (an hour later, BST); a time that happens twice has two readings.
 */
function nextWallClock(asked: Date, hour: number, minute: number): { at: number; skipped: boolean; twice: boolean } {
  const earliest = asked.getTime() - hourMs;
  const today = DateTime.fromJSDate(asked, { zone }).startOf('day');
  for (let day = 0; day < 3; day += 1) {
    const date = today.plus({ days: day });
    const dt = DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour, minute }, { zone });
    const skipped = dt.hour !== hour || dt.minute !== minute;
    const readings = skipped
      ? [dt.toMillis()]
      : dt
          .getPossibleOffsets()
          .map((r) => r.toMillis())
          .sort((a, b) => a - b);
    for (const at of readings) if (at > earliest) return { at, skipped, twice: readings.length > 1 };
  }
  throw new Error('no occurrence in three days');
}

describe('reading a clock time across the UK clock changes (property-based)', () => {
  const two = (n: number): string => String(n).padStart(2, '0');
  it('"Taunton at HH:MM" is read as the next such London time (not more than 59 minutes past) and said back in GMT/BST', () => {
    const hourArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 23 }));
    fc.assert(
      fc.property(
        fc.oneof(clockChangeInstant, fallBackInstant, instantArb),
        hourArb,
        fc.integer({ min: 0, max: 59 }),
        (asked, hour, minute) => {
          const text = `Taunton at ${two(hour)}:${two(minute)}`;
          const result = answerQuestion(text, asked, knowledge);
          if (result.kind !== 'answer') throw new Error(`${text} was not answered: ${result.kind}`);
          const expected = nextWallClock(asked, hour, minute);
          const local = DateTime.fromMillis(expected.at, { zone }).setLocale('en-GB');
          const said = `at ${local.toFormat('HH:mm')} on ${local.toFormat('ccc d')} ${local.toFormat('LLL').replace(/^Sep$/, 'Sept')} (${local.offsetNameShort ?? ''})`;
          expect({ at: result.position.at, said: result.understood.includes(said) ? said : result.understood }).toEqual({
            at: new Date(expected.at).toISOString(),
            said,
          });
          if (expected.skipped) expect(result.understood).toContain('does not exist');
          if (expected.twice) expect(result.understood).toContain('happens twice');
        },
      ),
      runs(500),
    );
  });
});

describe('a text turn (property-based)', () => {
  it("always replies, with well-formed cards and only the guide's contacts", () => {
    fc.assert(
      fc.property(anyText, instantArb, (text, asked) => {
        const replies = respond({ kind: 'text', text }, deps, asked);
        expect(replies.length).toBeGreaterThanOrEqual(1);
        expect(allProblems(replies, guide, text)).toEqual([]);
      }),
      runs(400),
    );
  });

  it('the welcome card on install, at any instant, is well-formed', () => {
    fc.assert(
      fc.property(instantArb, (asked) => {
        expect(allProblems(respond({ kind: 'installed' }, deps, asked), guide)).toEqual([]);
      }),
      runs(100),
    );
  });
});
