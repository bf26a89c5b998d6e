/**
 * The find-and-retrieve conversation (route A done from a phone): which text and which card
 * buttons are its own, and which step answers each. Patient data only in 1:1 chats, only for
 * allowed users; the patient and studies offered travel in signed card data. The steps live in
 * patient-search.ts (search form, search, studies card) and retrieval-confirmation.ts (pick,
 * confirm, try again, my retrievals).
 */
import { findNhsNumberText, parseNhsNumber } from '../domain/patients/nhs-number';
import { refuseInvalidSearch } from '../retrieval/gatekeeper';
import { overSearchLimit, search, searchForm, searchFrom, searchSiteAgain } from './patient-search';
import { guard, say, type RetrievalConversationDeps, type TurnCaller } from './retrieval-context';
import { cancel, confirm, myRetrievals, pageOf, pick, retry } from './retrieval-confirmation';
import { cancelDownload } from './retrieval-status';
import type { Turn } from './turn';

const statusCommand = /^\s*(my\s+retrievals?|my\s+downloads?|status|retrieval\s+status)\s*[.!?]*\s*$/i;

const findCommand = new RegExp(
  String.raw`^\s*(please\s+)?(find|search|look\s*up|lookup|pull|retrieve|get|fetch|show)\b.*\b(images?|` +
    String.raw`imaging|studies|study|scans?|patient|x-?rays?)\b`,
  'i',
);

/** True when the text asks to find a patient's images ("find images for 943 476 5919"). */
export function isFindCommand(text: string): boolean {
  return (
    findCommand.test(text) &&
    (findNhsNumberText(text) !== null || /\bfor\b|\bpatient\b|^\s*(find|search)\s+(images?|patient)\s*$/i.test(text))
  );
}

/** The retrieval conversation's answer to a text command; null when the text is not one. */
export async function retrievalText(text: string, caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<Turn | null> {
  if (statusCommand.test(text)) {
    return (await guard(caller, deps, now)) ?? { replies: [await myRetrievals(caller, deps)] };
  }
  if (!isFindCommand(text)) return null;
  const refused = await guard(caller, deps, now);
  if (refused) return refused;
  const typed = findNhsNumberText(text) ?? /\d{6,}/.exec(text)?.[0] ?? null;
  if (typed === null) return { replies: [searchForm(deps)] };
  const parsed = parseNhsNumber(typed);
  if (!parsed.ok) {
    await refuseInvalidSearch(caller, deps.store, now, parsed.problem);
    return say(parsed.message);
  }
  return (await overSearchLimit(caller, deps, now)) ?? search({ kind: 'nhs-number', nhsNumber: parsed.nhsNumber }, caller, deps, now);
}

/** The retrieval conversation's answer to a card submit; null when the submit is not one of its own. */
export async function retrievalSubmit(
  value: unknown,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<Turn | null> {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const kinds = ['patient-search', 'search-site', 'pick', 'confirm', 'cancel', 'retry', 'my-retrievals', 'cancel-download'] as const;
  const isa = kinds.find((kind) => kind === v.isa);
  if (isa === undefined) return null;
  const refused = await guard(caller, deps, now);
  if (refused) return refused;
  switch (isa) {
    case 'patient-search': {
      const parsed = searchFrom(v);
      if ('error' in parsed) return say(parsed.error);
      return (await overSearchLimit(caller, deps, now)) ?? search(parsed, caller, deps, now);
    }
    case 'search-site':
      return searchSiteAgain(v, caller, deps, now);
    case 'pick':
      return pick(v, caller, deps, now);
    case 'confirm':
      return confirm(v, caller, deps, now);
    case 'cancel':
      return cancel(v, caller, deps, now);
    case 'retry':
      return retry(v, caller, deps, now);
    case 'cancel-download':
      return cancelDownload(v, caller, deps, now, (page) => myRetrievals(caller, deps, page));
    case 'my-retrievals': {
      const page = pageOf(v);
      return page === null
        ? say('I cannot use that button. Type "my retrievals" to see your retrievals.')
        : { replies: [await myRetrievals(caller, deps, page)] };
    }
  }
}

/** Route A's "Find images" button: the search form, when the caller may see patient data here. */
export async function findImagesButton(caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<Turn> {
  return (await guard(caller, deps, now)) ?? { replies: [searchForm(deps)] };
}
