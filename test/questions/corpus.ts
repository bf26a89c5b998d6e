/**
 * The question corpus: clinicians' phrasings with the time they were asked and what the answer
 * must be. Expectations come from the guide (docs/source/) and the decision tree, not from the code.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One question and what its answer must be. */
export interface CorpusCase {
  /** What the clinician typed. */
  readonly q: string;
  /** When it was sent, London wall-clock time (YYYY-MM-DDTHH:mm). */
  readonly asked: string;
  readonly expect: {
    /** answer: a card with the facts; clarify: a question back with buttons; unmatched / declined: the menu. */
    readonly kind: 'answer' | 'clarify' | 'unmatched' | 'declined';
    /** The decision-tree step the answer or question back belongs to. */
    readonly step?: string;
    /** The heading of the section that applies at the time asked about, when it depends on time. */
    readonly appliesNow?: string;
    /** Contacts (values as in content/guide.json) the answer must give. */
    readonly contacts?: readonly string[];
    /** Contacts the answer must not give (e.g. the IEP form at 2am for Taunton). */
    readonly notContacts?: readonly string[];
    /** The time the bot must say back, as "HH:mm on ccc d LLL". */
    readonly time?: string;
    /** For clarify: the targets of the buttons offered. */
    readonly choices?: readonly string[];
  };
}

/** Every case of test/questions/corpus.json. */
export function loadCorpus(): CorpusCase[] {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'corpus.json'), 'utf8')) as CorpusCase[];
}
