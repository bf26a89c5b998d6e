/**
 * The examples the product must get right, through the answering core and the card text.
 */
import { answerQuestion, buildKnowledge, type QuestionResult } from '../../src/domain/questions/answer-question';
import { realGuide } from '../support/fixtures';
import { london, zone } from '../support/instants';

const guide = realGuide();
const knowledge = buildKnowledge(guide, zone);

function answered(text: string, asked: string): Extract<QuestionResult, { kind: 'answer' }> {
  const result = answerQuestion(text, london(asked), knowledge);
  if (result.kind !== 'answer') throw new Error(`"${text}" was not answered: ${JSON.stringify(result)}`);
  return result;
}
const nowContacts = (r: Extract<QuestionResult, { kind: 'answer' }>) =>
  r.view.sections.filter((s) => s.appliesNow).flatMap((s) => s.contacts.map((c) => c.value));
const allText = (r: Extract<QuestionResult, { kind: 'answer' }>) =>
  [
    r.understood,
    r.view.now?.headline ?? '',
    ...(r.view.now?.detail ?? []),
    ...r.view.sections.flatMap((s) => [...s.text, ...s.contacts.map((c) => c.value)]),
  ].join('\n');

describe('answers that must hold', () => {
  it('"how do I get Taunton access at 2am?" -> the Taunton CT radiographer or bleep 2310, not the IEP form', () => {
    const r = answered('how do I get Taunton access at 2am?', '2026-12-02T14:00');
    expect(r.view.step).toBe('route-b-taunton');
    expect(nowContacts(r)).toEqual(['01823 343317', '2310']);
    expect(allText(r)).not.toContain('crishelp');
    expect(r.understood).toContain('at 02:00 on Thu 3 Dec (GMT), outside normal working hours');
  });

  it('"need Taunton access now" at 08:30 BST on a Wednesday -> the IT service desk, emergency accounts from 17:00', () => {
    const r = answered('need Taunton access now', '2026-07-15T08:30');
    expect(nowContacts(r)).toEqual(['01823 287728']);
    expect(r.view.now?.detail.join(' ')).toContain('available from 17:00 today');
    expect(r.understood).toContain('at 08:30 on Wed 15 Jul (BST)');
  });

  it('"urgent images from Cardiff now" at 17:30 BST on a Friday -> ask the referring hospital to send via IEP', () => {
    const r = answered('urgent images from Cardiff now', '2026-07-17T17:30');
    expect(r.view.step).toBe('route-d-urgent');
    expect(r.view.now?.headline).toContain('outside normal working hours');
    expect(r.view.now?.detail.join(' ')).toContain('Ask the Radiology team at the referring hospital to send the images via IEP');
    expect(nowContacts(r)).toEqual(['IEP Receipts (Temporary)']);
  });

  it('the same at 10:00 on a Tuesday -> the request form to crishelp@uhbristol.nhs.uk', () => {
    const r = answered('urgent images from Cardiff now', '2026-07-14T10:00');
    expect(r.view.step).toBe('route-d-urgent');
    expect(nowContacts(r)).toContain('crishelp@uhbristol.nhs.uk');
    expect(r.view.now?.headline).toContain('normal working hours, so use the request form');
  });
});

describe('times too far ahead (found by the property tests)', () => {
  it('answers a date more than a year ahead for now, saying so, with buttons that still work', () => {
    const r = answered('on 31/12/9999 at midnight how do I get Taunton access', '2026-12-02T14:00');
    expect(r.understood).toContain('is more than a year ahead, so I answered for now');
    expect(r.understood).toContain('at 14:00 on Wed 2 Dec (GMT)');
  });

  it('still answers for a date within the year ahead', () => {
    const r = answered('how do I get Taunton access on 25/11/2027 at 2am', '2026-12-02T14:00');
    expect(r.understood).toContain('25 Nov');
    expect(r.understood).not.toContain('answered for now');
  });
});
