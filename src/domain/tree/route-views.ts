/**
 * The answers at the leaves of the decision tree (docs/decision-tree.md): the guide's four routes and
 * the side topics, each as a pure function of the guide and, where the answer depends on the time, the
 * instant asked about. decision-tree.ts chooses which one a step shows.
 */
import type { Guide, SectionId } from '../guide/guide';
import { hospitalNames, monthYear, trustName } from '../guide/guide';
import { windowState } from '../time/availability';
import { describeChange, describeInstant, localIsoDate, zoneAbbreviation } from '../time/wall-clock';
import type { NowNote, SectionView, StepView, When } from './decision-tree';

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

/** Step 'route-a': pulling the images from another Insignia PACS, peer to peer (Guide A). */
export function peerToPeer(guide: Guide): StepView {
  return {
    kind: 'answer',
    step: 'route-a',
    title: 'Pull the images by peer to peer (Guide A)',
    route: 'A',
    now: null,
    sections: (['p2p-intro', 'p2p-criteria', 'p2p-search', 'p2p-retrieve', 'p2p-consider'] as const).map((id) => section(guide, id)),
    related: [
      { label: "Find this patient's images now", target: 'find-images' },
      { label: 'What do the icons mean?', target: 'icons' },
    ],
  };
}

/** Step 'find-images': how to ask for a patient's images at the other Insignia sites. */
export function findImages(): StepView {
  // The conversation answers this step with the search form; this view is its fallback.
  return {
    kind: 'answer',
    step: 'find-images',
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
}

/** Step 'route-b-north-bristol': an account on North Bristol's web viewer (Guide B). */
export function northBristolViewer(guide: Guide): StepView {
  return {
    kind: 'answer',
    step: 'route-b-north-bristol',
    title: 'North Bristol web viewer (Guide B)',
    route: 'B',
    now: null,
    sections: [section(guide, 'nbt-access')],
    related: [{ label: 'Connect & Share instead (Guide C)', target: 'route-c' }],
  };
}

/** Step 'route-c': North Bristol imaging through Connect & Share (Guide C). */
export function connectAndShare(guide: Guide): StepView {
  return {
    kind: 'answer',
    step: 'route-c',
    title: 'North Bristol imaging: Connect & Share (Guide C)',
    route: 'C',
    now: null,
    sections: [section(guide, 'connect-share')],
    related: [{ label: 'Use an NBT PACS account (Guide B)', target: 'route-b-north-bristol' }],
  };
}

/** Step 'route-b-bath': an account on RUH Bath's web viewer (Guide B). */
export function bathViewer(guide: Guide): StepView {
  return {
    kind: 'answer',
    step: 'route-b-bath',
    title: 'RUH Bath web viewer (Guide B)',
    route: 'B',
    now: null,
    sections: [section(guide, 'bath-access')],
    related: [],
  };
}

/** Step 'route-b-taunton': Taunton & Yeovil's web viewer (Guide B), the account that applies at the instant first. */
export function tauntonViewer(guide: Guide, when: When): StepView {
  const { now, emergencyNow } = tauntonNow(guide, when);
  const emergency = section(guide, 'taunton-emergency', emergencyNow);
  const permanent = section(guide, 'taunton-permanent', !emergencyNow);
  return {
    kind: 'answer',
    step: 'route-b-taunton',
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

/** Step 'route-d-urgent': urgent images via IEP (Guide D), the request form in hours, the referring hospital otherwise. */
export function iepUrgent(guide: Guide, when: When): StepView {
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

/** Step 'route-d-routine': non-urgent images via IEP (Guide D), by the request form. */
export function iepRoutine(guide: Guide): StepView {
  return {
    kind: 'answer',
    step: 'route-d-routine',
    title: 'Non-urgent images via IEP (Guide D)',
    route: 'D',
    now: null,
    sections: [section(guide, 'iep-intro'), section(guide, 'iep-form', true), section(guide, 'iep-consider')],
    related: [{ label: 'It is urgent', target: 'route-d-urgent' }],
  };
}

/** Step 'export': sending UH Bristol images to another hospital, in or out of hours. */
export function exportImages(guide: Guide, when: When): StepView {
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

/** Step 'icons': what each Image Sharing Status icon in Insignia means. */
export function iconMeanings(guide: Guide): StepView {
  return {
    kind: 'answer',
    step: 'icons',
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
}

/** Step 'uh-bristol': images taken at UH Bristol itself, which the guide does not cover. */
export function homeTrustImages(guide: Guide): StepView {
  return {
    kind: 'answer',
    step: 'uh-bristol',
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
}

/** Step 'about': the guide's document control. */
export function aboutTheGuide(guide: Guide): StepView {
  const d = guide.document;
  return {
    kind: 'answer',
    step: 'about',
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
