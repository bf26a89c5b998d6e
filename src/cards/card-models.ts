/**
 * The typed data model of each card template in cards/. One interface per template; the
 * template file name is the key of CardModels.
 */
import type { NavigationPayload } from '../domain/tree/navigation';

/** An Action.Submit button and the data it sends back. */
export interface ButtonData {
  readonly title: string;
  readonly data: NavigationPayload;
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
  readonly choices: readonly ButtonData[];
  readonly source: string;
}

/** Template name -> its data model. */
export interface CardModels {
  readonly welcome: WelcomeCardData;
  readonly question: QuestionCardData;
  readonly answer: AnswerCardData;
  readonly notice: NoticeCardData;
}

/** The name of a card template. */
export type CardName = keyof CardModels;

/** Every template name (one JSON file each in cards/). */
export const cardNames: readonly CardName[] = ['welcome', 'question', 'answer', 'notice'];
