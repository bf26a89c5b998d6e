/**
 * The typed data model of each card template in cards/. One interface per template; the
 * template file name is the key of CardModels.
 */
import type { NavigationPayload } from '../domain/tree/navigation';

/** An Action.Submit button and the data it sends back: a navigation, signed retrieval data, or a page of "my retrievals". */
export interface ButtonData {
  readonly title: string;
  readonly data:
    | NavigationPayload
    | { readonly isa: 'retry'; readonly offer: string }
    | { readonly isa: 'cancel-download'; readonly offer: string }
    | { readonly isa: 'search-site'; readonly offer: string }
    | { readonly isa: 'my-retrievals'; readonly page: number };
}

/** cards/welcome.json: the menu shown on install and for "help". */
export interface WelcomeCardData {
  readonly title: string;
  readonly intro: readonly string[];
  readonly choices: readonly ButtonData[];
  readonly source: string;
}

/** cards/question.json: a step of the tree that asks something. */
export interface QuestionCardData {
  readonly title: string;
  /** What the bot read a typed question as; null on a card reached by buttons. */
  readonly understood: string | null;
  readonly preface: readonly string[];
  readonly prompt: string;
  readonly choices: readonly ButtonData[];
  readonly navigation: readonly ButtonData[];
  readonly source: string;
}

/** One block of an answer card. */
export interface AnswerSectionData {
  readonly heading: string;
  readonly appliesNow: boolean;
  readonly text: readonly string[];
  readonly facts: ReadonlyArray<{ readonly title: string; readonly value: string }>;
  readonly links: ReadonlyArray<{ readonly title: string; readonly url: string }>;
}

/** cards/answer.json: a leaf of the tree, with every fact the guide gives for it. */
export interface AnswerCardData {
  readonly route: string;
  readonly title: string;
  /** What the bot read a typed question as; null on a card reached by buttons. */
  readonly understood: string | null;
  readonly now: { readonly headline: string; readonly detail: readonly string[] } | null;
  readonly sections: readonly AnswerSectionData[];
  readonly related: readonly ButtonData[];
  readonly navigation: readonly ButtonData[];
  readonly source: string;
}

/** cards/notice.json: a short message with a way back into the tree. */
export interface NoticeCardData {
  readonly title: string;
  readonly text: readonly string[];
  /** Links opened in the browser (e.g. "Open images"); empty for most notices. */
  readonly links: ReadonlyArray<{ readonly title: string; readonly url: string }>;
  readonly choices: readonly ButtonData[];
  readonly source: string;
}

/** A label/value line. */
export interface FactData {
  readonly title: string;
  readonly value: string;
}

/** cards/patient-search.json: the form to find a patient (NHS number, or surname + forename + DOB). */
export interface PatientSearchCardData {
  readonly title: string;
  readonly intro: readonly string[];
  /** The submit button's data (the inputs are merged into it by Teams). */
  readonly search: { readonly isa: 'patient-search' };
  readonly source: string;
}

/** cards/patient-studies.json: who the patient is and their studies here and elsewhere. */
export interface PatientStudiesCardData {
  readonly title: string;
  /** Shown in red above everything, e.g. "DEMO DATA: synthetic patients". */
  readonly banner: string | null;
  readonly identity: readonly FactData[];
  readonly localStudies: readonly string[];
  readonly sites: readonly FactData[];
  /** "Search <site> again" for each site that did not answer (unreachable, timed out, refused). */
  readonly again: readonly ButtonData[];
  readonly remoteLines: readonly string[];
  /** One checkbox per study that can be retrieved; its id is echoed in the submit. */
  readonly choices: ReadonlyArray<{ readonly id: string; readonly title: string }>;
  readonly pick: { readonly isa: 'pick'; readonly offer: string };
  readonly source: string;
}

/** cards/retrieval-confirm.json: the last check before retrieval starts. */
export interface RetrievalConfirmCardData {
  readonly title: string;
  readonly identity: readonly FactData[];
  readonly studies: readonly string[];
  readonly retention: string;
  readonly confirm: { readonly isa: 'confirm'; readonly offer: string };
  /** Cancel: the same signed offer, so the card is replaced and can no longer be confirmed. */
  readonly cancel: { readonly isa: 'cancel'; readonly offer: string };
  readonly source: string;
}

/**
 * cards/retrieval-outcome.json: a retrieval stored or failed, in the 1:1 chat. The patient's
 * identifiers are here, in the card, never in the message's text (a phone's lock screen shows that).
 */
export interface RetrievalOutcomeCardData {
  readonly title: string;
  /** The outcome in words: the study, the site, what happened. */
  readonly summary: string;
  readonly identity: readonly FactData[];
  /** "Open images" when a viewer is configured (VIEWER_URL_TEMPLATE); empty otherwise. */
  readonly links: ReadonlyArray<{ readonly title: string; readonly url: string }>;
  /** "Try again" on a failure. */
  readonly choices: readonly ButtonData[];
  readonly source: string;
}

/** Template name -> its data model. */
export interface CardModels {
  readonly welcome: WelcomeCardData;
  readonly question: QuestionCardData;
  readonly answer: AnswerCardData;
  readonly notice: NoticeCardData;
  readonly 'patient-search': PatientSearchCardData;
  readonly 'patient-studies': PatientStudiesCardData;
  readonly 'retrieval-confirm': RetrievalConfirmCardData;
  readonly 'retrieval-outcome': RetrievalOutcomeCardData;
}

/** The name of a card template. */
export type CardName = keyof CardModels;

/** Every template name (one JSON file each in cards/). */
export const cardNames: readonly CardName[] = [
  'welcome',
  'question',
  'answer',
  'notice',
  'patient-search',
  'patient-studies',
  'retrieval-confirm',
  'retrieval-outcome',
];
