/**
 * The guide's "Which one should I use?" decision tree (rebuilt in docs/decision-tree.md) as a
 * pure function: (step, guide, instant, zone) -> what to show. Every fact comes from the guide data.
 * The menu and the questions are here; the answers at the tree's leaves are in route-views.ts.
 */
import type { Contact, Guide } from '../guide/guide';
import { hospitalNames, insigniaSiteIds, trustName } from '../guide/guide';
import type { StepId } from './navigation';
import {
  aboutTheGuide,
  bathViewer,
  connectAndShare,
  exportImages,
  findImages,
  homeTrustImages,
  iconMeanings,
  iepRoutine,
  iepUrgent,
  northBristolViewer,
  peerToPeer,
  tauntonViewer,
} from './route-views';

/** The building blocks of answers (defined with the answers in route-views.ts), for the question answerer. */
export { sayWhen, section } from './route-views';

/** A button that moves to another step. */
export interface Choice {
  readonly label: string;
  readonly target: StepId;
}

/** One block of an answer. */
export interface SectionView {
  readonly heading: string;
  readonly text: readonly string[];
  readonly contacts: readonly Contact[];
  /** Label/value lines that are not contacts (icon meanings, document control). */
  readonly facts: ReadonlyArray<{ readonly label: string; readonly value: string }>;
  /** The part of the answer that applies at the instant asked about. */
  readonly appliesNow: boolean;
}

/** What applies at the instant asked about, for answers that depend on the time. */
export interface NowNote {
  readonly headline: string;
  readonly detail: readonly string[];
}

/** The guide's four routes. */
export type RouteLetter = 'A' | 'B' | 'C' | 'D';

/** What a step shows. */
export type StepView =
  | {
      readonly kind: 'menu';
      readonly step: 'menu';
      readonly title: string;
      readonly intro: readonly string[];
      readonly choices: readonly Choice[];
    }
  | {
      readonly kind: 'question';
      readonly step: StepId;
      readonly title: string;
      readonly preface: readonly string[];
      readonly prompt: string;
      readonly choices: readonly Choice[];
    }
  | {
      readonly kind: 'answer';
      readonly step: StepId;
      readonly title: string;
      readonly route: RouteLetter | null;
      readonly now: NowNote | null;
      readonly sections: readonly SectionView[];
      readonly related: readonly Choice[];
    };

/** The instant being asked about and the trust's zone. */
export interface When {
  readonly instant: Date;
  readonly zone: string;
}

const urgencyChoices: readonly Choice[] = [
  { label: 'Urgent', target: 'route-d-urgent' },
  { label: 'Not urgent', target: 'route-d-routine' },
];

/** Step 'menu': what the assistant does, and its topics. */
function menu(guide: Guide): StepView {
  return {
    kind: 'menu',
    step: 'menu',
    title: 'Image Sharing Assistant',
    intro: [
      `I help you get images held at another Trust, following UH Bristol's ${guide.document.title}.`,
      'There are 4 ways: A, pulling them from another Insignia PACS (peer to peer); B, logging ' +
        "on to the other Trust's web viewer; C, Connect & Share (North Bristol); D, IEP.",
    ],
    choices: [
      { label: 'Find the right way to get images', target: 'where' },
      { label: 'Send UH Bristol images out of hours', target: 'export' },
      { label: 'What do the Image Sharing Status icons mean?', target: 'icons' },
      { label: 'About the guide', target: 'about' },
    ],
  };
}

/** Step 'where': the tree's first question, which Trust holds the images. */
function whereAreTheImages(guide: Guide): StepView {
  return {
    kind: 'question',
    step: 'where',
    title: 'Where are the images?',
    preface: [],
    prompt: 'Which Trust holds the images?',
    choices: [
      { label: insigniaSiteIds.map((id) => trustName(guide, id)).join(', '), target: 'p2p-registered' },
      { label: `${trustName(guide, 'north-bristol')} (${hospitalNames(guide, 'north-bristol')})`, target: 'route-c' },
      { label: `${trustName(guide, 'bath')} (${hospitalNames(guide, 'bath')})`, target: 'route-b-bath' },
      { label: `${trustName(guide, 'taunton-yeovil')} (${hospitalNames(guide, 'taunton-yeovil')})`, target: 'route-b-taunton' },
      { label: 'Anywhere else in the UK', target: 'urgency' },
    ],
  };
}

/** Step 'p2p-registered': whether the patient is linked, so peer to peer (Guide A) can work. */
function peerToPeerRegistered(): StepView {
  return {
    kind: 'question',
    step: 'p2p-registered',
    title: 'Peer to peer (Guide A)?',
    preface: ["Images at these Insignia sites can be pulled straight into UH Bristol's Insignia PACS, if the patient is linked."],
    prompt: 'Is the patient registered on Medway UH Bristol and at that Trust with an NHS Number?',
    choices: [
      { label: 'Yes', target: 'route-a' },
      { label: 'No, or not sure', target: 'p2p-not-linked' },
    ],
  };
}

/** Step 'p2p-not-linked': the patient is not linked, so IEP (Guide D); how urgent is it? */
function peerToPeerNotLinked(guide: Guide): StepView {
  return {
    kind: 'question',
    step: 'p2p-not-linked',
    title: guide.sections['p2p-not-linked'].heading,
    preface: guide.sections['p2p-not-linked'].text,
    prompt: 'Is it urgent?',
    choices: urgencyChoices,
  };
}

/** Step 'urgency': images from elsewhere in the UK come by IEP (Guide D); how urgent is it? */
function elsewhereUrgency(guide: Guide): StepView {
  return {
    kind: 'question',
    step: 'urgency',
    title: 'Images from elsewhere in the UK: IEP (Guide D)',
    preface: [guide.sections['iep-intro'].text.join(' ')],
    prompt: 'Is it urgent?',
    choices: urgencyChoices,
  };
}

/** What to show at `step`, at the instant `when`. */
export function viewStep(step: StepId, guide: Guide, when: When): StepView {
  switch (step) {
    case 'menu':
      return menu(guide);
    case 'where':
      return whereAreTheImages(guide);
    case 'p2p-registered':
      return peerToPeerRegistered();
    case 'p2p-not-linked':
      return peerToPeerNotLinked(guide);
    case 'urgency':
      return elsewhereUrgency(guide);
    case 'route-a':
      return peerToPeer(guide);
    case 'find-images':
      return findImages();
    case 'route-b-north-bristol':
      return northBristolViewer(guide);
    case 'route-c':
      return connectAndShare(guide);
    case 'route-b-bath':
      return bathViewer(guide);
    case 'route-b-taunton':
      return tauntonViewer(guide, when);
    case 'route-d-urgent':
      return iepUrgent(guide, when);
    case 'route-d-routine':
      return iepRoutine(guide);
    case 'export':
      return exportImages(guide, when);
    case 'icons':
      return iconMeanings(guide);
    case 'uh-bristol':
      return homeTrustImages(guide);
    case 'about':
      return aboutTheGuide(guide);
  }
}

/** The step of the tree for images held at a trust of the guide ("elsewhere": any other UK place). */
export function stepForTrust(trustId: string, guide: Guide): StepId {
  if ((insigniaSiteIds as readonly string[]).includes(trustId)) return 'p2p-registered';
  if (trustId === guide.homeTrust) return 'uh-bristol';
  switch (trustId) {
    case 'north-bristol':
      return 'route-c';
    case 'bath':
      return 'route-b-bath';
    case 'taunton-yeovil':
      return 'route-b-taunton';
    default:
      return 'urgency';
  }
}
