/**
 * Every phrasing of the corpus is answered as the guide says, at the time it was asked, on any
 * host zone (the suite runs under TZ=UTC and TZ=America/New_York).
 */
import { allContacts } from '../../src/domain/guide/guide';
import { answerQuestion, buildKnowledge, type QuestionResult } from '../../src/domain/questions/answer-question';
import { realGuide } from '../support/fixtures';
import { london, zone } from '../support/instants';
import { loadCorpus } from './corpus';

const guide = realGuide();
const knowledge = buildKnowledge(guide, zone);
const corpus = loadCorpus();
const guideContacts = new Set(allContacts(guide).map((c) => c.value));

function contactsOf(result: QuestionResult): string[] {
  return result.kind === 'answer' ? result.view.sections.flatMap((s) => s.contacts.map((c) => c.value)) : [];
}

function stepOf(result: QuestionResult): string | undefined {
  if (result.kind === 'answer') return result.view.step;
  if (result.kind === 'clarify') return result.position.step;
  return undefined;
}

describe('the question corpus', () => {
  it('has at least 200 distinct phrasings', () => {
    expect(new Set(corpus.map((c) => c.q.trim().toLowerCase())).size).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((c) => c.q.trim().toLowerCase())).size).toBe(corpus.length);
  });

  it.each(corpus.map((c) => [c.q, c.asked, c] as const))('%s (asked %s)', (_q, _asked, c) => {
    const result = answerQuestion(c.q, london(c.asked), knowledge);
    const e = c.expect;
    expect(result.kind).toBe(e.kind);
    if (e.step) expect(stepOf(result)).toBe(e.step);
    const given = contactsOf(result);
    for (const contact of e.contacts ?? []) expect(given).toContain(contact);
    for (const contact of e.notContacts ?? []) expect(given).not.toContain(contact);
    for (const contact of given) expect(guideContacts).toContain(contact);
    if (e.appliesNow) {
      expect(result.kind).toBe('answer');
      if (result.kind === 'answer') expect(result.view.sections.filter((s) => s.appliesNow).map((s) => s.heading)).toContain(e.appliesNow);
    }
    if (e.time) {
      expect(result.kind === 'answer' || result.kind === 'clarify').toBe(true);
      if (result.kind === 'answer' || result.kind === 'clarify') expect(result.understood).toContain(`at ${e.time}`);
    }
    if (e.choices) {
      expect(result.kind).toBe('clarify');
      if (result.kind === 'clarify') expect(result.choices.map((ch) => ch.target)).toEqual(e.choices);
    }
  });
});
