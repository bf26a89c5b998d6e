import { viewStep, type StepView } from '../../src/domain/tree/decision-tree';
import { back, forward, maxTrail, parseNavigation, start, stepIds, type StepId } from '../../src/domain/tree/navigation';
import { realGuide } from '../support/fixtures';
import { london, zone } from '../support/instants';

const guide = realGuide();
const at = (local: string) => ({ instant: london(local), zone });
const noon = at('2026-12-02T12:00'); // a Wednesday

type Answer = Extract<StepView, { kind: 'answer' }>;
function answer(step: StepId, when = noon): Answer {
  const view = viewStep(step, guide, when);
  if (view.kind !== 'answer') throw new Error(`${step} is not an answer`);
  return view;
}
const contactValues = (view: Answer) => view.sections.flatMap((s) => s.contacts.map((c) => c.value));
const nowSection = (view: Answer) => view.sections.filter((s) => s.appliesNow).map((s) => s.heading);

describe('the decision tree', () => {
  it('asks where the images are, with the routes of the guide', () => {
    const view = viewStep('where', guide, noon);
    expect(view.kind).toBe('question');
    if (view.kind !== 'question') return;
    expect(view.choices.map((c) => c.target)).toEqual(['p2p-registered', 'route-c', 'route-b-bath', 'route-b-taunton', 'urgency']);
    expect(view.choices[0]!.label).toBe('Weston-Super-Mare, North Devon, Exeter, Plymouth, Cornwall, South Devon, Dorset County');
    expect(view.choices[1]!.label).toContain('Southmead');
    expect(view.choices[3]!.label).toContain('Musgrove Park');
  });

  it('sends a patient without an NHS number at both sites to IEP (Guide D)', () => {
    const registered = viewStep('p2p-registered', guide, noon);
    expect(registered.kind === 'question' && registered.choices.map((c) => c.target)).toEqual(['route-a', 'p2p-not-linked']);
    const notLinked = viewStep('p2p-not-linked', guide, noon);
    expect(notLinked.kind === 'question' && notLinked.choices.map((c) => c.target)).toEqual(['route-d-urgent', 'route-d-routine']);
  });

  it('gives Guide A with its criteria, steps and the 30-day rule', () => {
    const view = answer('route-a');
    expect(view.route).toBe('A');
    const text = view.sections.flatMap((s) => s.text).join(' ');
    expect(text).toContain('registered on Medway UH Bristol and the source Trust with an NHS Number');
    expect(text).toContain('satellite');
    expect(text).toContain('30 days');
  });

  it('offers Guide B beside Connect & Share for North Bristol', () => {
    const c = answer('route-c');
    expect(c.route).toBe('C');
    expect(c.related.map((r) => r.target)).toEqual(['route-b-north-bristol']);
    expect(contactValues(answer('route-b-north-bristol'))).toEqual(
      expect.arrayContaining(['0117 340 2020', 'https://fujimobilitypacs.nbt.nhs.uk:8443/pureweb/server/login.jsp']),
    );
  });

  it('gives Bath its helpdesk and web link', () => {
    expect(contactValues(answer('route-b-bath'))).toEqual(
      expect.arrayContaining(['01225 825444', 'https://fujimobilitypacs.ruh-bath.nhs.uk:8443/pureweb/server/login.jsp']),
    );
  });

  describe('Taunton & Yeovil depends on the time', () => {
    it.each([
      ['2026-12-03T02:00', true, '08:00 today'], // 2am Thursday
      ['2026-12-02T17:00', true, '08:00 tomorrow (Thu 3 Dec)'], // the window opens at 17:00
      ['2026-12-03T07:59', true, '08:00 today'],
      ['2026-12-03T08:00', false, '17:00 today'], // and closes at 08:00
      ['2026-07-15T08:30', false, '17:00 today'], // summer (BST): 07:30 UTC is 08:30 in Taunton
      ['2026-12-05T12:00', false, '17:00 today'], // Saturday: emergency only from 17:00 too
    ])('at %s the emergency route applies: %s', (local, emergency, change) => {
      const view = answer('route-b-taunton', at(local));
      expect(view.now?.headline).toContain(emergency ? 'emergency access applies' : 'use a permanent account');
      expect(view.now?.detail.join(' ')).toContain(change);
      expect(nowSection(view)).toEqual([emergency ? 'Emergency (1700-0800; Monday to Sunday)' : 'Permanent account']);
      // Both routes are always shown: the clinician may need the other one in a minute.
      expect(contactValues(view)).toEqual(
        expect.arrayContaining(['01823 343317', '2310', '01823 287728', 'https://rbapacs.tst.nhs.uk/Portal']),
      );
    });

    it('says back the time it used, in UK time', () => {
      expect(answer('route-b-taunton', at('2026-12-03T02:00')).now?.headline).toBe('At 02:00 on Thu 3 Dec (GMT): emergency access applies');
      expect(answer('route-b-taunton', at('2026-07-15T08:30')).now?.headline).toBe('At 08:30 on Wed 15 Jul (BST): use a permanent account');
    });
  });

  describe('urgent IEP depends on normal working hours', () => {
    it.each([
      ['2026-12-01T10:00', 'iep-form', 'Normal working hours end at 17:00 today'], // Tuesday morning
      ['2026-12-01T17:00', 'iep-urgent', 'resume at 09:00 tomorrow (Wed 2 Dec)'], // 17:00 is outside
      ['2026-09-04T17:30', 'iep-urgent', 'resume at 09:00 on Mon 7 Sept'], // en-GB abbreviates September as Sept, // Friday evening (BST)
      ['2026-08-31T10:00', 'iep-urgent', 'resume at 09:00 tomorrow (Tue 1 Sept)'], // August bank holiday
      ['2026-12-25T11:00', 'iep-urgent', 'resume at 09:00 on Tue 29 Dec'], // Christmas; 28 Dec is the Boxing Day substitute
    ])('at %s the route is %s', (local, section, change) => {
      const view = answer('route-d-urgent', at(local));
      expect(nowSection(view)).toEqual([guide.sections[section as 'iep-form'].heading]);
      expect(view.now?.detail.join(' ')).toContain(change);
    });

    it('says when a bank holiday makes it out of hours', () => {
      expect(answer('route-d-urgent', at('2026-08-31T10:00')).now?.detail.join(' ')).toContain('bank holiday');
      expect(answer('route-d-urgent', at('2026-08-29T10:00')).now?.detail.join(' ')).not.toContain('bank holiday');
    });

    it('always names the request form, crishelp and the IEP Receipts folder', () => {
      for (const local of ['2026-12-01T10:00', '2026-12-01T22:00']) {
        expect(contactValues(answer('route-d-urgent', at(local)))).toEqual(
          expect.arrayContaining(['crishelp@uhbristol.nhs.uk', 'IEP Receipts (Temporary)']),
        );
      }
    });

    it('uses the request form for non-urgent images at any hour', () => {
      const view = answer('route-d-routine', at('2026-12-05T03:00'));
      expect(nowSection(view)).toEqual([guide.sections['iep-form'].heading]);
      expect(view.related.map((r) => r.target)).toEqual(['route-d-urgent']);
    });
  });

  describe('exporting UH Bristol images', () => {
    it('gives the BCH bleep and BRI extension out of hours', () => {
      const view = answer('export', at('2026-12-03T02:00'));
      expect(contactValues(view)).toEqual(['2726', '22724']);
      expect(nowSection(view)).toEqual(['Exporting UH Bristol images out of hours']);
    });

    it('says the guide names no in-hours contact, rather than invent one', () => {
      const view = answer('export', at('2026-12-03T11:00'));
      expect(nowSection(view)).toEqual(['During normal working hours']);
      expect(view.now?.detail.join(' ')).toContain('Out of hours begins at 17:00 today');
    });
  });

  it('every step renders, and every choice leads to a known step', () => {
    for (const step of stepIds) {
      const view = viewStep(step, guide, noon);
      const choices = view.kind === 'answer' ? view.related : view.choices;
      for (const choice of choices) expect(stepIds).toContain(choice.target);
    }
  });

  it('every step is reachable from the menu', () => {
    const seen = new Set<StepId>(['menu']);
    const queue: StepId[] = ['menu'];
    while (queue.length) {
      const view = viewStep(queue.shift()!, guide, noon);
      for (const c of view.kind === 'answer' ? view.related : view.choices) {
        if (!seen.has(c.target)) {
          seen.add(c.target);
          queue.push(c.target);
        }
      }
    }
    // 'uh-bristol' answers typed questions about images taken here (e.g. "images from the BRI").
    expect([...seen].sort()).toEqual(stepIds.filter((s) => s !== 'uh-bristol').sort());
  });
});

describe('navigation carried in button data', () => {
  it('goes forward and back', () => {
    const where = forward(start, 'where');
    const taunton = forward(where, 'route-b-taunton');
    expect(taunton).toEqual({ step: 'route-b-taunton', trail: ['menu', 'where'] });
    expect(back(taunton)).toEqual(where);
    expect(back(start)).toBeNull();
  });

  it('keeps the trail bounded', () => {
    let position = start;
    for (let i = 0; i < 30; i += 1) position = forward(position, i % 2 ? 'route-c' : 'route-b-north-bristol');
    expect(position.trail).toHaveLength(maxTrail);
  });

  it.each([
    [null, 'not-navigation'],
    ['where', 'not-navigation'],
    [{ isa: 'other', step: 'where' }, 'not-navigation'],
    [{ isa: 'nav', step: 'nowhere' }, 'unknown-step'],
    [{ isa: 'nav', step: 'where', trail: 'menu' }, 'bad-trail'],
    [{ isa: 'nav', step: 'where', trail: ['menu', 'elsewhere'] }, 'bad-trail'],
    [{ isa: 'nav', step: 'where', trail: new Array(maxTrail + 1).fill('menu') }, 'bad-trail'],
  ])('rejects %j (%s)', (value, reason) => {
    expect(parseNavigation(value)).toEqual({ ok: false, reason });
  });

  it('accepts a payload with no trail (an old card)', () => {
    expect(parseNavigation({ isa: 'nav', step: 'route-a' })).toEqual({ ok: true, position: { step: 'route-a', trail: [] } });
  });
});
