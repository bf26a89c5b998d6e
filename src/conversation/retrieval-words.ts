/**
 * The retrieval conversation's words: how sites, studies, identities, states, failures and refusals
 * are said to the clinician, and the notice card they are shown in. Pure: no store, no PACS.
 */
import { DateTime } from 'luxon';
import { type FactData } from '../cards/card-models';
import { plainText } from '../cards/plain-text';
import { noticeCard } from '../cards/step-cards';
import { trustName, type Guide } from '../domain/guide/guide';
import { formatNhsNumber } from '../domain/patients/nhs-number';
import { type PacsErrorReason, type PatientIdentity, type StudySummary } from '../ports/pacs-port';
import { type Retrieval } from '../ports/store-port';
import { type AccessRefusal, type CardProblem } from '../retrieval/gatekeeper';
import { type RemoteStudy, type SiteLink, type SiteStatus } from '../retrieval/find-patient-images';
import type { RetrievalConversationDeps } from './retrieval-context';
import type { Reply } from './turn';

export const cardProblemWords: Record<CardProblem, string> = {
  forged: 'I cannot use that card: it has been changed, or it was not made by me. Please search again.',
  'not-offered': 'I cannot use that card: it was not made for you in this chat. Please search again.',
  expired: 'That card has expired. Please search again so you see the latest status.',
};

export function longDate(isoDate: string | null, zone: string): string {
  return isoDate ? DateTime.fromISO(isoDate, { zone }).setLocale('en-GB').toFormat('d LLL yyyy') : 'date unknown';
}

export function identityFacts(identity: PatientIdentity, zone: string): FactData[] {
  return [
    { title: 'Name', value: plainText(`${identity.familyName.toUpperCase()}, ${identity.givenName}`) },
    { title: 'Date of birth', value: longDate(identity.birthDate, zone) },
    { title: 'NHS number', value: identity.nhsNumber ? formatNhsNumber(identity.nhsNumber) : 'none recorded' },
    { title: 'Local identifier', value: plainText(identity.localId) },
  ];
}

export function studyLine(study: StudySummary, zone: string): string {
  const count = study.instanceCount === null ? '' : ` · ${study.instanceCount} image${study.instanceCount === 1 ? '' : 's'}`;
  const description = plainText(study.description) || 'no description';
  return `${longDate(study.date, zone)} · ${description} · ${plainText(study.modalities.join('/')) || '?'}${count}`;
}

export const linkWords: Record<SiteLink, string> = {
  linked: 'linked',
  'no-match': 'no match for this NHS number',
  unreachable: 'unreachable',
  'timed-out': 'timed out',
  rejected: 'refused the connection',
};

/** The site line's note on answers left out for carrying no NHS number. */
export function unidentifiedWords(count: number): string {
  if (count === 0) return '';
  return ` (${count} answer${count === 1 ? '' : 's'} without an NHS number left out)`;
}

export function locationWords(study: RemoteStudy, guide: Guide): string {
  switch (study.location) {
    case 'remote':
      return `🛰️ at ${trustName(guide, study.site)}`;
    case 'downloading':
      return '⬇️ downloading to UH Bristol PACS';
    case 'stored':
      return '✅ stored on UH Bristol PACS';
  }
}

/** What a caller refused patient data is told. */
export const accessRefusalWords: Record<AccessRefusal, string> = {
  'shared-chat':
    'Patient searches only happen in a 1:1 chat with me, so that no patient details appear in ' +
    'a group chat or channel. Please message me privately.',
  tenant: 'Sorry, this bot is only for UH Bristol staff.',
  'not-allowed':
    'Sorry, you are not on the list of staff who may search for patients and retrieve images. Ask the PACS team if you need access.',
};

export function failureWords(reason: PacsErrorReason): string {
  switch (reason) {
    case 'timed-out':
      return 'did not answer in time';
    case 'not-found':
      return 'no longer holds this study';
    case 'unreachable':
      return 'could not be reached';
    case 'rejected':
      return 'refused the request';
    case 'unknown-site':
      return 'is not configured for peer to peer';
    case 'protocol':
      return 'reported an error';
  }
}

export const stateWords: Record<Retrieval['state'], string> = {
  requested: '⏳ requested',
  retrieving: '⬇️ downloading',
  stored: '✅ stored on UH Bristol PACS',
  failed: '❌ failed',
  cancelled: '✖️ cancelled',
};

export function notice(deps: RetrievalConversationDeps, title: string, text: string[]): Reply {
  return { card: noticeCard(title, text, deps.guide, deps.cards) };
}

/**
 * A study's last retrieval into UH Bristol's PACS, in words for the studies card: when, by whom, and
 * whether that copy is still kept; empty when it was never retrieved.
 */
export function historyWords(last: Retrieval | undefined, now: Date, zone: string): string {
  if (!last) return '';
  const when = DateTime.fromISO(last.createdAt, { zone }).setLocale('en-GB').toFormat('d LLL yyyy HH:mm');
  const who = plainText(last.requester.displayName) || 'a colleague';
  switch (last.state) {
    case 'requested':
    case 'retrieving':
      return ` · being retrieved (asked ${when} by ${who})`;
    case 'failed':
      return ` · last tried ${when} by ${who}: it failed`;
    case 'cancelled':
      return ` · last asked for ${when} by ${who}: cancelled`;
    case 'stored': {
      const until = longDate(last.keptUntil.slice(0, 10), zone);
      const expired = Date.parse(last.keptUntil) <= now.getTime();
      return ` · retrieved ${when} by ${who}, ${expired ? `local copy expired ${until}` : `kept until ${until}`}`;
    }
  }
}

/**
 * The "Searching..." message, as the sites answer: how many are asked, then each site's answer in
 * the order they came ("Exeter: linked", "Cornwall: unreachable"). No patient identifier: it is a
 * message's text.
 */
export function searchingWords(asked: number, answered: readonly SiteStatus[], guide: Guide): string {
  const sites = `${asked} peer-to-peer site${asked === 1 ? '' : 's'}`;
  if (answered.length === 0) return `Searching UH Bristol PACS and ${sites}...`;
  const head =
    answered.length < asked
      ? `Searching UH Bristol PACS and ${sites}... (${answered.length} of ${asked} answered)`
      : `Searched UH Bristol PACS and ${sites}:`;
  return [head, ...answered.map((s) => `${trustName(guide, s.site)}: ${linkWords[s.link]}`)].join('\n\n');
}
