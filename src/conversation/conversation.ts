/**
 * What the bot says in reply to each kind of input. No transport here: the Teams layer turns
 * activities into `Incoming` values and the returned replies into messages.
 */
import type { CardRenderer } from '../cards/card-renderer';
import { noticeCard, stepCard } from '../cards/step-cards';
import type { Guide } from '../domain/guide/guide';
import { answerQuestion, type Knowledge, type QuestionResult } from '../domain/questions/answer-question';
import { viewStep, type When } from '../domain/tree/decision-tree';
import { parseNavigation, start, type Position } from '../domain/tree/navigation';
import { tenantRefusal, type AccessRules } from '../retrieval/access';
import { admitTenant } from '../retrieval/gatekeeper';
import { accessRefusalWords } from './retrieval-words';
import type { RetrievalConversationDeps, TurnCaller } from './retrieval-context';
import { findImagesButton, retrievalSubmit, retrievalText } from './retrieval-conversation';
import type { Reply, Turn } from './turn';

export type { Reply, Turn };

/** An input, already taken out of its activity. */
export type Incoming =
  { readonly kind: 'installed' } | { readonly kind: 'text'; readonly text: string } | { readonly kind: 'submit'; readonly value: unknown };

/** What the conversation needs: the guide, the question-answering knowledge, the card templates and the trust's zone. */
export interface ConversationDeps {
  readonly access: AccessRules;
  readonly guide: Guide;
  readonly knowledge: Knowledge;
  readonly cards: CardRenderer;
  readonly zone: string;
}

/** Words that bring up the menu. */
const menuCommands = new Set(['help', 'menu', 'start', 'start again', 'restart', 'hi', 'hello', 'hey', 'home']);

/** Lower case, no surrounding punctuation or spaces: "Help!" -> "help". */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when the text asks for the menu. */
export function isMenuCommand(text: string): boolean {
  return menuCommands.has(normalise(text));
}

function show(position: Position, deps: ConversationDeps, instant: Date): Reply {
  // A button from an answer to a typed question carries the time that question was about.
  const when: When = { instant: position.at ? new Date(position.at) : instant, zone: deps.zone };
  return { card: stepCard(viewStep(position.step, deps.guide, when), position, deps.guide, deps.cards) };
}

function replyToQuestion(result: QuestionResult, deps: ConversationDeps, instant: Date): Reply[] {
  switch (result.kind) {
    case 'answer':
      return [{ card: stepCard(result.view, result.position, deps.guide, deps.cards, result.understood) }];
    case 'clarify': {
      const { title, preface, prompt, choices, position } = result;
      return [
        {
          card: stepCard(
            { kind: 'question', step: position.step, title, preface, prompt, choices },
            position,
            deps.guide,
            deps.cards,
            result.understood,
          ),
        },
      ];
    }
    case 'unmatched':
      return [
        {
          text:
            'I could not match that to the guide. Name the hospital or Trust that holds the images ' +
            '(for example "CT from Derriford at 2am"), or use the menu:',
        },
        show(start, deps, instant),
      ];
    case 'declined':
      return [
        {
          text:
            "I can only help with getting images from other hospitals, following the Clinician's Guide " +
            'to Image Sharing. Here is the menu:',
        },
        show(start, deps, instant),
      ];
  }
}

/** Longest message read; a question is a sentence or two, and a bound keeps every turn cheap. */
export const maxTextLength = 2000;

/** The replies to one input at `instant` (the message's own time). */
export function respond(input: Incoming, deps: ConversationDeps, instant: Date): Reply[] {
  switch (input.kind) {
    case 'installed':
      return [show(start, deps, instant)];
    case 'text': {
      if (input.text.length > maxTextLength) {
        return [
          { text: `That message is too long for me (over ${maxTextLength} characters). Ask in a sentence or two, or tap a button:` },
          show(start, deps, instant),
        ];
      }
      if (normalise(input.text) === '') {
        return [
          { text: 'I did not get any text. Here is the menu: tap a button to find the right way to get the images.' },
          show(start, deps, instant),
        ];
      }
      if (isMenuCommand(input.text)) return [show(start, deps, instant)];
      return replyToQuestion(answerQuestion(input.text, instant, deps.knowledge), deps, instant);
    }
    case 'submit': {
      const parsed = parseNavigation(input.value);
      if (parsed.ok) return [show(parsed.position, deps, instant)];
      return [
        {
          card: noticeCard(
            'I cannot use that button',
            ['It may be from a card I no longer recognise. Start again from the menu.'],
            deps.guide,
            deps.cards,
          ),
        },
      ];
    }
  }
}

/**
 * The whole conversation: the retrieval flow (when a PACS is configured) first, then the decision
 * tree and free-text questions. `instant` is the message's own time.
 */
export async function converse(
  input: Incoming,
  caller: TurnCaller,
  deps: ConversationDeps,
  retrieval: RetrievalConversationDeps | null,
  instant: Date,
): Promise<Turn> {
  // Another tenant is refused whatever it asks; audited when there is a store to audit in.
  const tenantRefused = retrieval ? await admitTenant(caller, deps.access, retrieval.store, instant) : tenantRefusal(caller, deps.access);
  if (tenantRefused) return { replies: [{ text: accessRefusalWords.tenant }] };
  if (retrieval) {
    if (input.kind === 'text' && input.text.length <= maxTextLength) {
      const turn = await retrievalText(input.text, caller, retrieval, instant);
      if (turn) return turn;
    }
    if (input.kind === 'submit') {
      const parsed = parseNavigation(input.value);
      if (parsed.ok && parsed.position.step === 'find-images') return findImagesButton(caller, retrieval, instant);
      const turn = await retrievalSubmit(input.value, caller, retrieval, instant);
      if (turn) return turn;
    }
  }
  return { replies: respond(input, deps, instant) };
}
