/**
 * Property-based tests of the stateless decision-tree navigation (parseNavigation, forward, back,
 * payloadFor), the step views (viewStep) and the button turn (respond with a submit input). For any
 * position, any instant from 1990 to 2100 and any button data (random JSON, payloads shaped almost
 * like real ones with wrong types, tampered or huge trails, instants of any year 0000-9999), they
 * prove: a button's data survives the wire and reads back as the same position; trails never grow
 * past maxTrail and "Back" always ends at the start; parsing never throws and accepts only real
 * steps; every step can be shown at every instant with the guide's contacts only; and a press always
 * gets exactly one well-formed card, whose every button leads somewhere, with no contact that is not
 * in content/guide.json (a random walk through the cards, old cards included, checks the same).
 */
import fc from 'fast-check';
import { respond, type ConversationDeps, type Reply } from '../../src/conversation/conversation';
import { allContacts } from '../../src/domain/guide/guide';
import { buildKnowledge } from '../../src/domain/questions/answer-question';
import { viewStep } from '../../src/domain/tree/decision-tree';
import {
  back,
  forward,
  isStepId,
  maxTrail,
  navigationKind,
  parseNavigation,
  payloadFor,
  start,
  stepIds,
  type Position,
  type StepId,
} from '../../src/domain/tree/navigation';
import { realCards, realGuide } from '../support/fixtures';
import { zone } from '../support/instants';
import {
  actionsOf,
  allProblems,
  anyInstant,
  atLike,
  clockChangeInstant,
  foreignContacts,
  instantArb,
  navigationLike,
  runs,
  stepLike,
  stringsOf,
  submitValue,
  trailLike,
} from './property-support';

const guide = realGuide();
const deps: ConversationDeps = {
  access: { mode: 'development', allowedTenantIds: [], retrievalAllowedUsers: [] },
  guide,
  knowledge: buildKnowledge(guide, zone),
  cards: realCards(),
  zone,
};
const guideContactValues = new Set(allContacts(guide).map((c) => c.value));
const notUsable = 'I cannot use that button';

const stepArb = fc.constantFrom<StepId>(...stepIds);
/** A position a real card could carry: a step, up to maxTrail steps behind it, maybe the time asked about. */
const positionArb: fc.Arbitrary<Position> = fc
  .tuple(stepArb, fc.array(stepArb, { maxLength: maxTrail }), fc.option(fc.oneof(anyInstant, clockChangeInstant), { nil: undefined }))
  .map(([step, trail, at]) => ({ step, trail, ...(at ? { at: at.toISOString() } : {}) }));

const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('navigation (property-based)', () => {
  it("a button's data survives the wire and reads back as the same position", () => {
    fc.assert(
      fc.property(positionArb, (position) => {
        expect(parseNavigation(wire(payloadFor(position)))).toEqual({ ok: true, position });
      }),
      runs(500),
    );
  });

  it('reading any value never throws; what it accepts is a real position, and reads back the same', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          navigationLike,
          submitValue,
          fc.record({ isa: fc.constant(navigationKind), step: stepLike, trail: trailLike, at: atLike }),
        ),
        (value) => {
          const parsed = parseNavigation(value);
          if (!parsed.ok) {
            expect(['not-navigation', 'unknown-step', 'bad-trail', 'bad-time']).toContain(parsed.reason);
            return;
          }
          const { position } = parsed;
          expect(isStepId(position.step)).toBe(true);
          expect(position.trail.length).toBeLessThanOrEqual(maxTrail);
          expect(position.trail.every(isStepId)).toBe(true);
          if (position.at !== undefined) expect(Number.isNaN(Date.parse(position.at))).toBe(false);
          expect(parseNavigation(wire(payloadFor(position)))).toEqual({ ok: true, position: wire(position) });
        },
      ),
      runs(500),
    );
  });

  it('forward keeps at most maxTrail steps and the time asked about; back undoes it', () => {
    fc.assert(
      fc.property(positionArb, stepArb, (from, target) => {
        const next = forward(from, target);
        expect(next.step).toBe(target);
        expect(next.trail).toEqual([...from.trail, from.step].slice(-maxTrail));
        expect(next.at).toBe(from.at);
        const previous = back(next);
        expect(previous).not.toBeNull();
        expect(previous!.step).toBe(from.step);
        if (from.trail.length < maxTrail) expect(previous).toEqual(from);
        else expect(previous!.trail).toEqual(from.trail.slice(1));
      }),
      runs(500),
    );
  });

  it('"Back" always ends at the start of the trail, within trail-length presses', () => {
    fc.assert(
      fc.property(positionArb, (position) => {
        let here: Position | null = position;
        let presses = 0;
        while (here !== null) {
          expect(parseNavigation(wire(payloadFor(here))).ok).toBe(true);
          here = back(here);
          presses += 1;
          expect(presses).toBeLessThanOrEqual(position.trail.length + 1);
        }
        expect(back(start)).toBeNull();
      }),
      runs(300),
    );
  });
});

describe('the step views (property-based)', () => {
  it("every step can be shown at every instant, with the guide's contacts and real targets only", () => {
    fc.assert(
      fc.property(stepArb, instantArb, (step, instant) => {
        const view = viewStep(step, guide, { instant, zone });
        expect(view.title.trim()).not.toBe('');
        const targets = view.kind === 'answer' ? view.related : view.choices;
        for (const choice of targets) expect(isStepId(choice.target)).toBe(true);
        if (view.kind !== 'answer') expect(view.choices.length).toBeGreaterThan(0);
        if (view.kind === 'answer') {
          for (const s of view.sections) for (const c of s.contacts) expect(guideContactValues).toContain(c.value);
          // The time is said back in UK time, named GMT or BST.
          if (view.now) expect(view.now.headline).toMatch(/^At \d\d:\d\d on \w{3} \d{1,2} \w{3,4} \((GMT|BST)\)/);
        }
        expect(foreignContacts(JSON.stringify(view))).toEqual([]);
      }),
      runs(500),
    );
  });
});

describe('a button press (property-based)', () => {
  it('any button data gets exactly one well-formed card: the step, or "cannot use that button"', () => {
    fc.assert(
      fc.property(submitValue, instantArb, (value, instant) => {
        const replies = respond({ kind: 'submit', value }, deps, instant);
        expect(replies).toHaveLength(1);
        expect(replies[0]!.card).toBeDefined();
        expect(allProblems(replies, guide)).toEqual([]);
        const usable = parseNavigation(value).ok;
        expect(stringsOf(replies[0]!.card!.content).includes(notUsable)).toBe(!usable);
      }),
      runs(400),
    );
  });

  it('a real button with one field tampered with still gets one well-formed card', () => {
    const field = fc.constantFrom('isa', 'step', 'trail', 'at');
    fc.assert(
      fc.property(
        positionArb,
        field,
        fc.oneof(stepLike, trailLike, atLike, fc.jsonValue({ maxDepth: 2 })),
        instantArb,
        (position, key, tampered, instant) => {
          const value = { ...(wire(payloadFor(position)) as Record<string, unknown>), [key]: tampered };
          const replies = respond({ kind: 'submit', value }, deps, instant);
          expect(replies).toHaveLength(1);
          expect(allProblems(replies, guide)).toEqual([]);
        },
      ),
      runs(400),
    );
  });

  it('a random walk through the cards (old cards too, at any instants) only ever meets well-formed cards', () => {
    // Each move: the index of a button (among every button seen so far, so old cards are pressed too) and the press's instant.
    const moves = fc.array(fc.tuple(fc.nat(), fc.boolean(), instantArb), { minLength: 1, maxLength: 25 });
    fc.assert(
      fc.property(instantArb, moves, (first, walk) => {
        const seen: unknown[] = [];
        const take = (replies: Reply[]): void => {
          expect(allProblems(replies, guide)).toEqual([]);
          for (const reply of replies)
            for (const action of actionsOf(reply.card?.content)) if (action.type === 'Action.Submit') seen.push(action.data);
        };
        take(respond({ kind: 'text', text: 'help' }, deps, first));
        let latest = seen.slice();
        for (const [pick, fromLatest, instant] of walk) {
          const pool = fromLatest && latest.length > 0 ? latest : seen;
          const data = pool[pick % pool.length];
          expect(parseNavigation(data).ok).toBe(true);
          const before = seen.length;
          take(respond({ kind: 'submit', value: wire(data) }, deps, instant));
          latest = seen.slice(before);
        }
      }),
      runs(200),
    );
  });
});
