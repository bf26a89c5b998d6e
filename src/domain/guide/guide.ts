/**
 * The guide as data: its schema, its types and validation. Pure: no file access here.
 */
import { z } from 'zod';
import { bankHolidayCalendar, proclaimedDaysSchema, type BankHolidays } from '../time/bank-holidays';
import { AppError } from '../app-error';

const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
/** A day of the week, Monday first (ISO order). */
export type Weekday = (typeof weekdays)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time HH:MM');
const yearMonth = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM');
const text = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  // Cards are expanded from templates; "${" in data would read as a broken binding.
  .refine((value) => !value.includes('${'), 'must not contain "${"');

const contactSchema = z
  .object({
    kind: z.enum(['phone', 'bleep', 'extension', 'email', 'link', 'form', 'folder']),
    label: text,
    value: text,
    /** Where the guide links to; null where the link target was lost from the text copy. */
    href: z.string().url().nullable().optional(),
  })
  .strict()
  .superRefine((contact, ctx) => {
    const fail = (message: string): void => ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['value'], message });
    switch (contact.kind) {
      case 'phone':
        if (!/^0\d{2,4}( ?\d{3,4}){1,2}$/.test(contact.value)) fail('must be a UK phone number such as 01823 343317');
        break;
      case 'bleep':
      case 'extension':
        if (!/^\d{3,6}$/.test(contact.value)) fail(`must be a ${contact.kind} number (digits only)`);
        break;
      case 'email':
        if (contact.href !== null && !z.string().email().safeParse(contact.value).success) fail('must be an e-mail address');
        break;
      case 'link':
      case 'form':
      case 'folder':
        break;
    }
  });

/** One contact, link, form or folder the guide gives. */
export type Contact = z.infer<typeof contactSchema>;
/** The kinds of contact. */
export type ContactKind = Contact['kind'];

const sectionSchema = z
  .object({
    heading: text,
    text: z.array(text),
    contacts: z.array(contactSchema),
  })
  .strict();

/** A block of the guide: heading, sentences and contacts. */
export type Section = z.infer<typeof sectionSchema>;

const windowSchema = z
  .object({
    label: text,
    days: z.array(z.enum(weekdays)).min(1),
    from: hhmm,
    to: hhmm,
    /** "closed": the window does not open on an England & Wales bank holiday. */
    bankHolidays: z.enum(['as-usual', 'closed']),
  })
  .strict()
  .refine((w) => w.from !== w.to, { message: 'from and to must differ', path: ['to'] });

/** A weekly availability window in the trust's wall-clock time; `to` before `from` runs overnight. */
export type AvailabilityWindow = z.infer<typeof windowSchema>;

const trustSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a kebab-case id'),
    name: text,
    pacs: text,
    hospitals: z.array(z.object({ name: text, aliases: z.array(text) }).strict()).min(1),
    aliases: z.array(text),
  })
  .strict();

/** A trust (or group of hospitals) that holds images. */
export type Trust = z.infer<typeof trustSchema>;

/** Sections the decision tree shows; the guide file must define each. */
export const requiredSectionIds = [
  'p2p-intro',
  'p2p-criteria',
  'p2p-search',
  'p2p-retrieve',
  'p2p-consider',
  'p2p-not-linked',
  'nbt-access',
  'bath-access',
  'taunton-intro',
  'taunton-emergency',
  'taunton-permanent',
  'taunton-web',
  'connect-share',
  'iep-intro',
  'iep-form',
  'iep-urgent',
  'iep-consider',
  'export-out-of-hours',
  'export-in-hours',
] as const;

/** Id of a section the tree uses. */
export type SectionId = (typeof requiredSectionIds)[number];

/** The peer-to-peer (Insignia) sites the guide lists for route A. */
export const insigniaSiteIds = ['weston', 'north-devon', 'exeter', 'plymouth', 'cornwall', 'south-devon', 'dorset-county'] as const;

const guideSchema = z
  .object({
    $comment: z.string().optional(),
    document: z
      .object({
        title: text,
        author: text,
        department: text,
        owner: text,
        version: text,
        issueDate: yearMonth,
        reviewDate: yearMonth,
        reviewNote: text,
        endDate: text,
        revisions: z.array(z.object({ version: text, date: yearMonth, comment: text }).strict()).min(1),
      })
      .strict(),
    homeTrust: text,
    trusts: z.array(trustSchema).min(1),
    windows: z.object({ 'taunton-emergency': windowSchema, 'normal-working-hours': windowSchema }).strict(),
    sections: z.record(z.string(), sectionSchema),
    icons: z.array(z.object({ id: text, name: text, meaning: text }).strict()).min(1),
  })
  .strict()
  .superRefine((guide, ctx) => {
    for (const id of requiredSectionIds) {
      if (!guide.sections[id])
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sections', id], message: 'is required by the decision tree' });
    }
    const ids = new Set<string>();
    guide.trusts.forEach((trust, i) => {
      if (ids.has(trust.id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['trusts', i, 'id'], message: `duplicate id ${trust.id}` });
      ids.add(trust.id);
    });
    for (const id of [guide.homeTrust, ...insigniaSiteIds, 'north-bristol', 'bath', 'taunton-yeovil']) {
      if (!ids.has(id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['trusts'], message: `must include the trust "${id}"` });
    }
  });

/** The whole guide, validated, with the bank holiday calendar its hours are read against. */
export interface Guide extends Omit<z.infer<typeof guideSchema>, 'sections'> {
  readonly sections: Readonly<Record<SectionId, Section>> & Readonly<Record<string, Section>>;
  /** "Not bank holidays" in the guide's windows means these (the statutory rules and the proclaimed days). */
  readonly bankHolidays: BankHolidays;
}

/** The guide file is not valid; `field` is the dotted path of the first problem. */
export class GuideError extends AppError<'invalid-guide'> {
  override readonly name = 'GuideError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid-guide', message);
  }
}

/** The first issue of a failed parse as [dotted field, message]. */
function firstIssue(error: z.ZodError): [string, string] {
  const issue = error.issues[0];
  return [issue ? issue.path.map(String).join('.') || '(root)' : '(root)', issue?.message ?? 'invalid'];
}

/** The guide's own content, validated: everything but the bank holidays it is read against. */
export type GuideContent = Omit<Guide, 'bankHolidays'>;

/** Validates parsed JSON as the guide's content; throws GuideError naming the first bad field. */
export function parseGuideContent(data: unknown): GuideContent {
  const result = guideSchema.safeParse(data);
  if (!result.success) {
    const [field, message] = firstIssue(result.error);
    throw new GuideError(field, `guide field ${field}: ${message}`);
  }
  return result.data as GuideContent;
}

/** Validates parsed JSON as the guide and joins it to its bank holidays; throws GuideError naming the first bad field. */
export function parseGuide(data: unknown, bankHolidays: BankHolidays): Guide {
  return { ...parseGuideContent(data), bankHolidays };
}

/** Validates parsed JSON as the proclaimed bank holidays; throws GuideError naming the first bad field. */
export function parseBankHolidays(data: unknown): BankHolidays {
  const result = proclaimedDaysSchema.safeParse(data);
  if (!result.success) {
    const [field, message] = firstIssue(result.error);
    throw new GuideError(`bank-holidays.${field}`, `bank holidays field ${field}: ${message}`);
  }
  return bankHolidayCalendar(result.data);
}

/** The name of the trust with `id` (its id when the guide has no such trust). */
export function trustName(guide: Guide, id: string): string {
  return guide.trusts.find((t) => t.id === id)?.name ?? id;
}

/** The names of the hospitals of the trust with `id`, comma-separated. */
export function hospitalNames(guide: Guide, id: string): string {
  return (guide.trusts.find((t) => t.id === id)?.hospitals ?? []).map((h) => h.name).join(', ');
}

/** True when the guide's review date (end of its review month) is before `now`. */
export function isReviewOverdue(guide: Guide, now: Date): boolean {
  const [year, month] = guide.document.reviewDate.split('-').map(Number) as [number, number];
  // First instant of the month after the review month, UTC: a day's slack either way does not matter here.
  return now.getTime() >= Date.UTC(year, month, 1);
}

/** Every contact in the guide, with the section it belongs to. */
export function allContacts(guide: Guide): ReadonlyArray<Contact & { readonly sectionId: string }> {
  return Object.entries(guide.sections).flatMap(([sectionId, section]) => section.contacts.map((c) => ({ ...c, sectionId })));
}

/** "May 2018" from "2018-05". */
export function monthYear(yyyyMm: string): string {
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const [year, month] = yyyyMm.split('-').map(Number) as [number, number];
  return `${months[month - 1] ?? '?'} ${year}`;
}
