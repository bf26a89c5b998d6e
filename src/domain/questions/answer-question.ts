/**
 * Answers a clinician's free-text question from the guide: a pure function of the text and the
 * instant it was asked. It finds where the images are, how urgent it is, the topic and the time
 * asked about, then shows the matching part of the decision tree at that time, or asks back.
 */
import { trustName, type Guide } from '../guide/guide';
import { windowState } from '../time/availability';
import { localIsoDate } from '../time/wall-clock';
import { section, sayWhen, stepForTrust, viewStep, type Choice, type SectionView, type StepView, type When } from '../tree/decision-tree';
import type { Position, StepId } from '../tree/navigation';
import { iconOf, isOffTopic, mentionsImaging, topicOf, urgencyOf, type IconId, type Topic, type Urgency } from './intents';
import { buildGazetteer, elsewhere, type Gazetteer, type PlaceMatch } from './places';
import { understandTime, type UnderstoodTime } from './time-phrases';

/** Everything answering needs, built once at start. */
export interface Knowledge {
  readonly guide: Guide;
  readonly gazetteer: Gazetteer;
  readonly zone: string;
}

/** Builds the question-answering knowledge from the guide. */
export function buildKnowledge(guide: Guide, zone: string): Knowledge {
  return { guide, gazetteer: buildGazetteer(guide), zone };
}

type AnswerView = Extract<StepView, { kind: 'answer' }>;

/** What the bot makes of a question. */
export type QuestionResult =
  | {
      readonly kind: 'answer';
      readonly understood: string;
      readonly view: AnswerView;
      /** Where the answer sits in the decision tree (for its buttons), carrying the time asked about. */
      readonly position: Position;
    }
  | {
      readonly kind: 'clarify';
      readonly understood: string;
      readonly title: string;
      readonly preface: readonly string[];
      readonly prompt: string;
      readonly choices: readonly Choice[];
      readonly position: Position;
    }
  | { readonly kind: 'unmatched' }
  | { readonly kind: 'declined' };

/** What was read from the question. */
export interface Understanding {
  readonly places: readonly PlaceMatch[];
  readonly urgency: Urgency;
  readonly topic: Topic;
  readonly icon: IconId | null;
  readonly time: UnderstoodTime;
}

/** A time phrase more than this far in the past says when something happened, not when help is needed. */
const pastToleranceMs = 60 * 60 * 1000;

/** Hours and routes are answered at most this far ahead: a year on, the guide may well have changed. */
const futureLimitMs = 366 * 24 * 60 * 60 * 1000;

/** Reads a question into places, urgency, topic and time. */
export function understand(text: string, asked: Date, knowledge: Knowledge): Understanding {
  let time = understandTime(text, asked, knowledge.zone);
  if (time.source === 'phrase' && time.instant.getTime() < asked.getTime() - pastToleranceMs) {
    // "CT in Cardiff yesterday": the scan's time. The clinician needs the images now.
    time = {
      instant: asked,
      source: 'now',
      phrase: time.phrase,
      note: `"${time.phrase ?? 'that time'}" is in the past, so I answered for now`,
    };
  } else if (time.source === 'phrase' && !(time.instant.getTime() <= asked.getTime() + futureLimitMs)) {
    time = {
      instant: asked,
      source: 'now',
      phrase: time.phrase,
      note: `"${time.phrase ?? 'that time'}" is more than a year ahead, so I answered for now`,
    };
  }
  return {
    places: knowledge.gazetteer.find(text),
    urgency: urgencyOf(text),
    topic: topicOf(text),
    icon: iconOf(text),
    time,
  };
}

/** A trust's name, or "elsewhere in the UK" for the rest of the country (route D). */
function placeName(guide: Guide, id: string): string {
  return id === elsewhere ? 'elsewhere in the UK' : trustName(guide, id);
}

/** "outside normal working hours" / "within normal working hours (Mon-Fri; 0900-1700)". */
function hoursPhrase(guide: Guide, when: When): string {
  const open = windowState(guide.windows['normal-working-hours'], when.instant, when.zone, guide.bankHolidays).open;
  if (open) return 'within normal working hours (Mon-Fri; 0900-1700)';
  const bankHoliday = guide.bankHolidays.isBankHoliday(localIsoDate(when.instant, when.zone));
  return bankHoliday ? 'a bank holiday, outside normal working hours' : 'outside normal working hours';
}

/** The line that says back what was understood, so a misreading is visible. */
function understoodLine(guide: Guide, u: Understanding, when: When, place: PlaceMatch | null, targets: readonly string[]): string {
  const parts: string[] = [];
  if (place && targets.length === 1) {
    const name = placeName(guide, targets[0]!);
    const said = place.corrected || place.words !== place.name.toLowerCase() ? ` ("${place.words}")` : '';
    parts.push(
      targets[0] === elsewhere ? `images at ${place.name}${said}, not one of the guide's named Trusts` : `images at ${name}${said}`,
    );
  } else if (place && targets.length > 1) {
    parts.push(`images at ${targets.map((id) => placeName(guide, id)).join(' or ')} ("${place.words}")`);
  }
  if (u.urgency === 'urgent') parts.push('urgent');
  if (u.urgency === 'not-urgent') parts.push('not urgent');
  const time = `at ${sayWhen(when)}${u.time.source === 'now' ? ' (now)' : ''}, ${hoursPhrase(guide, when)}`;
  parts.push(time);
  const note = u.time.note ? ` Note: ${u.time.note}.` : '';
  return `I read this as: ${parts.join(', ')}.${note}`;
}

function positionFor(step: StepId, when: When): Position {
  // Back from an answer goes to "Where are the images?"; the trail carries the time asked about.
  return { step, trail: step === 'where' ? ['menu'] : ['menu', 'where'], at: when.instant.toISOString() };
}

function answer(view: AnswerView, understood: string, when: When): QuestionResult {
  return { kind: 'answer', understood, view, position: positionFor(view.step, when) };
}

function ask(step: StepId, guide: Guide, when: When, understood: string, choices?: readonly Choice[], prompt?: string): QuestionResult {
  const view = viewStep(step, guide, when);
  if (view.kind === 'answer') return answer(view, understood, when);
  return {
    kind: 'clarify',
    understood,
    title: view.title,
    preface: view.kind === 'question' ? view.preface : view.intro,
    prompt: prompt ?? (view.kind === 'question' ? view.prompt : 'What would you like to do?'),
    choices: choices ?? view.choices,
    position: positionFor(step, when),
  };
}

function topicAnswer(title: string, sections: SectionView[], related: Choice[], step: StepId): AnswerView {
  return { kind: 'answer', step, title, route: null, now: null, sections, related };
}

/** Route D for images from elsewhere: the tree's urgency question, unless the answer is the same either way. */
function iep(u: Understanding, guide: Guide, when: When, understood: string): QuestionResult {
  if (u.urgency === 'urgent') return answer(viewStep('route-d-urgent', guide, when) as AnswerView, understood, when);
  if (u.urgency === 'not-urgent') return answer(viewStep('route-d-routine', guide, when) as AnswerView, understood, when);
  // In normal working hours the request form applies whether or not it is urgent.
  if (windowState(guide.windows['normal-working-hours'], when.instant, when.zone, guide.bankHolidays).open) {
    return answer(viewStep('route-d-urgent', guide, when) as AnswerView, understood, when);
  }
  return ask('urgency', guide, when, understood);
}

const accountSteps: Readonly<Record<string, StepId>> = {
  'north-bristol': 'route-b-north-bristol',
  bath: 'route-b-bath',
  'taunton-yeovil': 'route-b-taunton',
};

function accountAnswer(trustId: string | null, guide: Guide, when: When, understood: string): QuestionResult {
  const step = trustId ? accountSteps[trustId] : undefined;
  if (step) return answer(viewStep(step, guide, when) as AnswerView, understood, when);
  return {
    kind: 'clarify',
    understood,
    title: 'Web viewer accounts, passwords and links (Guide B)',
    preface: ['Three Trusts give UH Bristol users access to their web viewer: North Bristol, RUH Bath and Taunton & Yeovil.'],
    prompt: 'Which Trust?',
    choices: Object.entries(accountSteps).map(([id, target]) => ({ label: placeName(guide, id), target })),
    position: positionFor('where', when),
  };
}

function iconsAnswer(icon: IconId | null, guide: Guide): AnswerView {
  const all = guide.icons;
  const picked = all.filter((i) => i.id === icon);
  const rest = all.filter((i) => i.id !== icon);
  const sectionsOut: SectionView[] = [];
  if (picked.length > 0) {
    sectionsOut.push({
      heading: 'The symbol you asked about',
      text: [],
      contacts: [],
      facts: picked.map((i) => ({ label: i.name, value: i.meaning })),
      appliesNow: true,
    });
  }
  sectionsOut.push({
    heading: picked.length > 0 ? 'The other Image Sharing Status symbols' : 'What each symbol in Insignia means',
    text: [],
    contacts: [],
    facts: rest.map((i) => ({ label: i.name, value: i.meaning })),
    appliesNow: false,
  });
  return topicAnswer(
    'At a glance: Image Sharing Status icons',
    sectionsOut,
    [{ label: 'How to pull images (Guide A)', target: 'route-a' }],
    'icons',
  );
}

/** Asks which Trust is meant when the places named lead to more than one route. */
function whichTrust(
  guide: Guide,
  places: readonly PlaceMatch[],
  candidates: readonly string[],
  when: When,
  understood: string,
): QuestionResult {
  const place = places[0] ?? null;
  const several = new Set(places.map((p) => p.targets.join('|'))).size > 1;
  return {
    kind: 'clarify',
    understood,
    title: 'Where are the images?',
    preface: [several ? 'You named more than one place.' : `"${place?.words ?? ''}" could mean more than one Trust.`],
    prompt: 'Which Trust holds the images?',
    choices: candidates.map((id) => ({
      label: id === elsewhere ? 'Somewhere else in the UK' : placeName(guide, id),
      target: stepForTrust(id, guide),
    })),
    position: positionFor('where', when),
  };
}

/** The answer a topic gives on its own (icons, retention, IEP, ...); null when the Trust decides. */
function topicResult(u: Understanding, trustId: string | null, guide: Guide, when: When, understood: string): QuestionResult | null {
  switch (u.topic) {
    case 'icons':
      return answer(iconsAnswer(u.icon, guide), understood, when);
    case 'retention':
      return answer(
        topicAnswer(
          'How long images stay',
          [section(guide, 'p2p-consider'), section(guide, 'iep-urgent')],
          [{ label: 'IEP (Guide D)', target: 'urgency' }],
          'route-a',
        ),
        understood,
        when,
      );
    case 'iep-location':
      return answer(
        topicAnswer('Where IEP images appear', [section(guide, 'iep-urgent', true), section(guide, 'iep-consider')], [], 'urgency'),
        understood,
        when,
      );
    case 'iep-speed':
      return answer(
        {
          ...topicAnswer('Is IEP instant?', [section(guide, 'iep-urgent', true)], [], 'urgency'),
          now: { headline: 'No: imaging transferred via IEP is not instant.', detail: [] },
        },
        understood,
        when,
      );
    case 'export':
      return answer(viewStep('export', guide, when) as AnswerView, understood, when);
    case 'connect-share':
      return answer(viewStep('route-c', guide, when) as AnswerView, understood, when);
    case 'about':
      return answer(viewStep('about', guide, when) as AnswerView, understood, when);
    case 'account':
      return trustId === null || accountSteps[trustId] ? accountAnswer(trustId, guide, when, understood) : null;
    case 'no-nhs-number':
      return u.urgency === null ? ask('p2p-not-linked', guide, when, understood) : iep(u, guide, when, understood);
    case 'p2p':
      return trustId === null ? answer(viewStep('route-a', guide, when) as AnswerView, understood, when) : null;
    case 'iep':
      return trustId === null ? iep(u, guide, when, understood) : null;
    case 'route':
      return null;
  }
}

/** The route for the Trust that holds the images. */
function trustRoute(trustId: string, u: Understanding, guide: Guide, when: When, understood: string): QuestionResult {
  if (trustId === elsewhere) return iep(u, guide, when, understood);
  const step = stepForTrust(trustId, guide);
  // Insignia sites: peer to peer, for a patient registered at both sites with an NHS number.
  if (step === 'p2p-registered') {
    const view = viewStep('route-a', guide, when) as AnswerView;
    return answer(
      { ...view, related: [{ label: 'Patient has no NHS number', target: 'p2p-not-linked' }, ...view.related] },
      understood,
      when,
    );
  }
  return ask(step, guide, when, understood);
}

/** Answers `text`, asked at `asked` (the message's own timestamp). */
export function answerQuestion(text: string, asked: Date, knowledge: Knowledge): QuestionResult {
  if (isOffTopic(text)) return { kind: 'declined' };
  const { guide, zone } = knowledge;
  const u = understand(text, asked, knowledge);
  const when: When = { instant: u.time.instant, zone };

  // UH Bristol named beside another place is where the clinician is, not where the images are.
  const others = u.places.filter((p) => !(p.targets.length === 1 && p.targets[0] === guide.homeTrust));
  const places = others.length > 0 ? others : u.places;
  const candidates = [...new Set(places.flatMap((p) => p.targets))];
  const understood = understoodLine(guide, u, when, places[0] ?? null, candidates);
  // Names that could mean several trusts with the same route ("Devon") need no question back.
  if (new Set(candidates.map((id) => stepForTrust(id, guide))).size > 1) return whichTrust(guide, places, candidates, when, understood);

  const trustId = candidates[0] ?? null;
  const byTopic = topicResult(u, trustId, guide, when, understood);
  if (byTopic) return byTopic;
  if (trustId === null) return mentionsImaging(text) ? ask('where', guide, when, understood) : { kind: 'unmatched' };
  return trustRoute(trustId, u, guide, when, understood);
}
