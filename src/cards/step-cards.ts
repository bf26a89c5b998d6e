/**
 * Turns what the decision tree says (a StepView) into card data, adding the buttons that carry
 * navigation and the source line every answer ends with.
 */
import type { Attachment } from 'botbuilder';
import type { Contact, Guide } from '../domain/guide/guide';
import { monthYear } from '../domain/guide/guide';
import type { Choice, StepView } from '../domain/tree/decision-tree';
import { back, forward, payloadFor, start, type Position } from '../domain/tree/navigation';
import type { AnswerSectionData, ButtonData } from './card-models';
import type { CardRenderer } from './card-renderer';

/** "Source: Clinician's Guide to Image Sharing v1.0 (May 2017); review was due May 2018." */
export function sourceLine(guide: Guide): string {
  const d = guide.document;
  return `Source: ${d.title} ${d.version} (UH Bristol ${d.department}, ${monthYear(d.issueDate)}); review due ${monthYear(d.reviewDate)}.`;
}

const kindPrefix: Record<Contact['kind'], string> = {
  phone: '',
  bleep: 'Bleep ',
  extension: 'Extension ',
  email: '',
  link: '',
  form: '',
  folder: 'Folder: ',
};

/** How a contact reads on a card; a link lost from the text copy says so rather than guess. */
export function contactText(contact: Contact): string {
  const lost = contact.href === null ? ' (the link is in the original guide but not in this text copy)' : '';
  return `${kindPrefix[contact.kind]}${contact.value}${lost}`;
}

function buttons(choices: readonly Choice[], from: Position): ButtonData[] {
  return choices.map((choice) => ({ title: choice.label, data: payloadFor(forward(from, choice.target)) }));
}

function navigation(from: Position): ButtonData[] {
  const previous = back(from);
  return [...(previous ? [{ title: 'Back', data: payloadFor(previous) }] : []), { title: 'Start again', data: payloadFor(start) }];
}

function routeLabel(view: Extract<StepView, { kind: 'answer' }>): string {
  return view.route ? `Guide ${view.route}` : 'Image sharing';
}

/** The card for a step, with buttons that lead on from `position`; `understood` says back a typed question. */
export function stepCard(
  view: StepView,
  position: Position,
  guide: Guide,
  cards: CardRenderer,
  understood: string | null = null,
): Attachment {
  const source = sourceLine(guide);
  switch (view.kind) {
    case 'menu':
      return cards.render('welcome', { title: view.title, intro: view.intro, choices: buttons(view.choices, position), source });
    case 'question':
      return cards.render('question', {
        title: view.title,
        understood,
        preface: view.preface,
        prompt: view.prompt,
        choices: buttons(view.choices, position),
        navigation: navigation(position),
        source,
      });
    case 'answer': {
      const sections: AnswerSectionData[] = view.sections.map((s) => ({
        heading: s.heading,
        appliesNow: s.appliesNow,
        text: s.text,
        facts: [
          ...s.contacts.map((c) => ({ title: c.label, value: contactText(c) })),
          ...s.facts.map((f) => ({ title: f.label, value: f.value })),
        ],
        links: s.contacts.flatMap((c) => (c.href && c.kind !== 'email' ? [{ title: `Open: ${c.label}`, url: c.href }] : [])),
      }));
      return cards.render('answer', {
        route: routeLabel(view),
        title: view.title,
        understood,
        now: view.now,
        sections,
        related: buttons(view.related, position),
        navigation: navigation(position),
        source,
      });
    }
  }
}

/** A short notice with a way back to the menu (after `choices`, its own buttons, if any). */
export function noticeCard(
  title: string,
  text: readonly string[],
  guide: Guide,
  cards: CardRenderer,
  links: ReadonlyArray<{ readonly title: string; readonly url: string }> = [],
  choices: readonly ButtonData[] = [],
): Attachment {
  return cards.render('notice', {
    title,
    text,
    links,
    choices: [...choices, { title: 'Show the menu', data: payloadFor(start) }],
    source: sourceLine(guide),
  });
}
