/**
 * The guide's "Which one should I use?" decision tree (rebuilt in docs/decision-tree.md) as a
 * pure function: (step, guide, instant, zone) -> what to show. Every fact comes from the guide data.
 */
import type { Contact, Guide, SectionId } from '../guide/guide';
import { hospitalNames, insigniaSiteIds, monthYear, trustName } from '../guide/guide';
import { windowState } from '../time/availability';
import { describeChange, describeInstant, localIsoDate, zoneAbbreviation } from '../time/wall-clock';
import type { StepId } from './navigation';

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

/** A section of the guide as shown in an answer. */
export function section(guide: Guide, id: SectionId, appliesNow = false): SectionView {
  const s = guide.sections[id];
  return { heading: s.heading, text: s.text, contacts: s.contacts, facts: [], appliesNow };
}

/** "at 02:00 on Thu 3 Dec (GMT)": the instant said back so a misreading is visible. */
export function sayWhen(when: When): string {
  return `${describeInstant(when.instant, when.zone)} (${zoneAbbreviation(when.instant, when.zone)})`;
}

function bankHolidayNote(guide: Guide, when: When): string[] {
  return guide.bankHolidays.isBankHoliday(localIsoDate(when.instant, when.zone))
    ? ['Today is a bank holiday in England and Wales, so it is outside normal working hours.']
    : [];
}

/** Taunton & Yeovil: the emergency route from 17:00 to 08:00 every day, a permanent account otherwise. */
function tauntonNow(guide: Guide, when: When): { now: NowNote; emergencyNow: boolean } {
  const state = windowState(guide.windows['taunton-emergency'], when.instant, when.zone, guide.bankHolidays);
  const change = state.changesAt ? describeChange(state.changesAt, when.instant, when.zone) : null;
  if (state.open) {
    return {
      emergencyNow: true,
      now: {
        headline: `At ${sayWhen(when)}: emergency access applies`,
        detail: [
          'Contact the Taunton CT Radiographer for an emergency access account (1700-0800, Monday to Sunday).',
          ...(change
            ? [`The emergency window closes at ${change}; after that, permanent accounts are arranged via the IT service desk.`]
            : []),
        ],
      },
    };
  }
  return {
    emergencyNow: false,
    now: {
      headline: `At ${sayWhen(when)}: use a permanent account`,
      detail: [
        'Permanent accounts are arranged via the Taunton IT service desk.',
        ...(change
          ? [`Emergency accounts from the Taunton CT Radiographer are available from ${change} (1700-0800, Monday to Sunday).`]
          : []),
      ],
    },
  };
}

/** Normal working hours (Mon-Fri 09:00-17:00, not bank holidays) at the instant. */
function workingHours(guide: Guide, when: When): { inHours: boolean; change: string | null } {
  const state = windowState(guide.windows['normal-working-hours'], when.instant, when.zone, guide.bankHolidays);
  return { inHours: state.open, change: state.changesAt ? describeChange(state.changesAt, when.instant, when.zone) : null };
}

function iepUrgent(guide: Guide, when: When): StepView {
  const { inHours, change } = workingHours(guide, when);
  const base = { kind: 'answer', step: 'route-d-urgent', title: 'Urgent images via IEP (Guide D)', route: 'D', related: [] } as const;
  if (inHours) {
    return {
      ...base,
      now: {
        headline: `At ${sayWhen(when)}: normal working hours, so use the request form`,
        detail: [
          'Complete the request form and e-mail it to crishelp@uhbristol.nhs.uk.',
          ...(change
            ? [
                `Normal working hours end at ${change}; after that, urgent imports are sent by the ` +
                  `referring hospital's Radiology team via IEP.`,
              ]
            : []),
        ],
      },
      sections: [
        section(guide, 'iep-intro'),
        section(guide, 'iep-form', true),
        section(guide, 'iep-urgent'),
        section(guide, 'iep-consider'),
      ],
    };
  }
  return {
    ...base,
    now: {
      headline: `At ${sayWhen(when)}: outside normal working hours`,
      detail: [
        'Ask the Radiology team at the referring hospital to send the images via IEP.',
        ...bankHolidayNote(guide, when),
        ...(change ? [`Normal working hours resume at ${change}.`] : []),
      ],
    },
    sections: [section(guide, 'iep-intro'), section(guide, 'iep-urgent', true), section(guide, 'iep-form'), section(guide, 'iep-consider')],
  };
}

function exportImages(guide: Guide, when: When): StepView {
  const { inHours, change } = workingHours(guide, when);
  const base = {
    kind: 'answer',
    step: 'export',
    title: 'Sending UH Bristol images to another hospital',
    route: null,
    related: [],
  } as const;
  if (inHours) {
    return {
      ...base,
      now: {
        headline: `At ${sayWhen(when)}: normal working hours`,
        detail: ['The guide names contacts for out-of-hours exports only.', ...(change ? [`Out of hours begins at ${change}.`] : [])],
      },
      sections: [section(guide, 'export-in-hours', true), section(guide, 'export-out-of-hours')],
    };
  }
  return {
    ...base,
    now: {
      headline: `At ${sayWhen(when)}: outside normal working hours`,
      detail: ['Contact the out of hours Radiographers at BCH or BRI.', ...bankHolidayNote(guide, when)],
    },
    sections: [section(guide, 'export-out-of-hours', true)],
  };
}

const urgencyChoices: readonly Choice[] = [
  { label: 'Urgent', target: 'route-d-urgent' },
  { label: 'Not urgent', target: 'route-d-routine' },
];

/** What to show at `step`, at the instant `when`. */
export function viewStep(step: StepId, guide: Guide, when: When): StepView {
  switch (step) {
    case 'menu':
      return {
        kind: 'menu',
        step,
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
    case 'where':
      return {
        kind: 'question',
        step,
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
    case 'p2p-registered':
      return {
        kind: 'question',
        step,
        title: 'Peer to peer (Guide A)?',
        preface: ["Images at these Insignia sites can be pulled straight into UH Bristol's Insignia PACS, if the patient is linked."],
        prompt: 'Is the patient registered on Medway UH Bristol and at that Trust with an NHS Number?',
        choices: [
          { label: 'Yes', target: 'route-a' },
          { label: 'No, or not sure', target: 'p2p-not-linked' },
        ],
      };
    case 'p2p-not-linked':
      return {
        kind: 'question',
        step,
        title: guide.sections['p2p-not-linked'].heading,
        preface: guide.sections['p2p-not-linked'].text,
        prompt: 'Is it urgent?',
        choices: urgencyChoices,
      };
    case 'urgency':
      return {
        kind: 'question',
        step,
        title: 'Images from elsewhere in the UK: IEP (Guide D)',
        preface: [guide.sections['iep-intro'].text.join(' ')],
        prompt: 'Is it urgent?',
        choices: urgencyChoices,
      };
    case 'route-a':
      return {
        kind: 'answer',
        step,
        title: 'Pull the images by peer to peer (Guide A)',
        route: 'A',
        now: null,
        sections: (['p2p-intro', 'p2p-criteria', 'p2p-search', 'p2p-retrieve', 'p2p-consider'] as const).map((id) => section(guide, id)),
        related: [
          { label: "Find this patient's images now", target: 'find-images' },
          { label: 'What do the icons mean?', target: 'icons' },
        ],
      };
    case 'find-images':
      // The conversation answers this step with the search form; this view is its fallback.
      return {
        kind: 'answer',
        step,
        title: "Find a patient's images at the other Insignia sites",
        route: 'A',
        now: null,
        sections: [
          {
            heading: 'In a 1:1 chat with me',
            text: ['Type "find images for" and the patient\'s NHS number, for example "find images for 943 476 5919".'],
            contacts: [],
            facts: [],
            appliesNow: false,
          },
        ],
        related: [],
      };
    case 'route-b-north-bristol':
      return {
        kind: 'answer',
        step,
        title: 'North Bristol web viewer (Guide B)',
        route: 'B',
        now: null,
        sections: [section(guide, 'nbt-access')],
        related: [{ label: 'Connect & Share instead (Guide C)', target: 'route-c' }],
      };
    case 'route-c':
      return {
        kind: 'answer',
        step,
        title: 'North Bristol imaging: Connect & Share (Guide C)',
        route: 'C',
        now: null,
        sections: [section(guide, 'connect-share')],
        related: [{ label: 'Use an NBT PACS account (Guide B)', target: 'route-b-north-bristol' }],
      };
    case 'route-b-bath':
      return {
        kind: 'answer',
        step,
        title: 'RUH Bath web viewer (Guide B)',
        route: 'B',
        now: null,
        sections: [section(guide, 'bath-access')],
        related: [],
      };
    case 'route-b-taunton': {
      const { now, emergencyNow } = tauntonNow(guide, when);
      const emergency = section(guide, 'taunton-emergency', emergencyNow);
      const permanent = section(guide, 'taunton-permanent', !emergencyNow);
      return {
        kind: 'answer',
        step,
        title: 'Taunton & Yeovil web viewer (Guide B)',
        route: 'B',
        now,
        sections: [
          section(guide, 'taunton-intro'),
          ...(emergencyNow ? [emergency, permanent] : [permanent, emergency]),
          section(guide, 'taunton-web'),
        ],
        related: [],
      };
    }
    case 'route-d-urgent':
      return iepUrgent(guide, when);
    case 'route-d-routine':
      return {
        kind: 'answer',
        step,
        title: 'Non-urgent images via IEP (Guide D)',
        route: 'D',
        now: null,
        sections: [section(guide, 'iep-intro'), section(guide, 'iep-form', true), section(guide, 'iep-consider')],
        related: [{ label: 'It is urgent', target: 'route-d-urgent' }],
      };
    case 'export':
      return exportImages(guide, when);
    case 'icons':
      return {
        kind: 'answer',
        step,
        title: 'At a glance: Image Sharing Status icons',
        route: 'A',
        now: null,
        sections: [
          {
            heading: 'What each symbol in Insignia means',
            text: [],
            contacts: [],
            facts: guide.icons.map((icon) => ({ label: icon.name, value: icon.meaning })),
            appliesNow: false,
          },
        ],
        related: [{ label: 'How to pull images (Guide A)', target: 'route-a' }],
      };
    case 'uh-bristol':
      return {
        kind: 'answer',
        step,
        title: `${trustName(guide, guide.homeTrust)} (${hospitalNames(guide, guide.homeTrust)})`,
        route: null,
        now: null,
        sections: [
          {
            heading: 'Images taken at UH Bristol',
            text: [
              'The guide covers imaging held at another Trust. Images taken at UH Bristol are on UH Bristol Insignia PACS.',
              'To send UH Bristol images to another hospital, see exporting.',
            ],
            contacts: [],
            facts: [],
            appliesNow: false,
          },
        ],
        related: [
          { label: 'Send UH Bristol images out of hours', target: 'export' },
          { label: 'Images at another Trust', target: 'where' },
        ],
      };
    case 'about': {
      const d = guide.document;
      return {
        kind: 'answer',
        step,
        title: 'About the guide',
        route: null,
        now: null,
        sections: [
          {
            heading: d.title,
            text: ['This document outlines the processes for accessing imaging at another Trust.'],
            contacts: [],
            facts: [
              { label: 'Version', value: d.version },
              { label: 'Issue date', value: monthYear(d.issueDate) },
              { label: 'Review date', value: d.reviewNote },
              { label: 'Owner', value: d.owner },
              { label: 'Author', value: `${d.author}, ${d.department}` },
            ],
            appliesNow: false,
          },
        ],
        related: [],
      };
    }
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
