/**
 * The gatekeeper of patient data, as use cases: who may see it (tenant, allow-list), where (1:1 chats
 * only), how often (searches per minute, counting those still waiting for the PACS), and whether a
 * card pressed is the one offered to this user in this chat. Every refusal except an expired card is
 * audited. The conversation turns each answer into words.
 */
import type { AuditEvent, AuditStore, Requester } from '../ports/store-port';
import { auditEvent } from './audit-events';
import { retrievalRefusal, searchAllowed, searchWindowMs, tenantRefusal, type AccessRules, type Caller } from './access';

/** Who is asking, and in which kind of chat ('personal' is a 1:1 chat; anything else is shared). */
export interface GateCaller extends Caller {
  readonly requester: Requester;
  readonly conversationType: string | null;
}

/** Why patient data is refused to a caller here. */
export type AccessRefusal = 'shared-chat' | 'tenant' | 'not-allowed';

/** What is wrong with a submitted card, if anything. */
export type CardProblem = 'forged' | 'not-offered' | 'expired';

/** A search over the user's limit: how many they made in the window, and the limit. */
export interface OverLimit {
  readonly recent: number;
  readonly limit: number;
}

const refusalOutcomes: Record<AccessRefusal, string> = {
  'shared-chat': 'refused: shared chat',
  tenant: 'refused: tenant',
  'not-allowed': 'refused: not allowed',
};

/** The audit line for a refused caller (no patient data: the refusal comes before any is read). */
export function refusalAudit(
  caller: { readonly requester: Requester },
  now: Date,
  outcome: string,
  action: 'access-refused' | 'rate-limited' = 'access-refused',
): AuditEvent {
  return auditEvent(caller.requester, now, { action, outcome });
}

/** Records a search refused for its input (an NHS number that fails its check), before any PACS is asked. */
export async function refuseInvalidSearch(caller: GateCaller, store: AuditStore, now: Date, problem: string): Promise<void> {
  await store.appendAudit(auditEvent(caller.requester, now, { action: 'patient-search', outcome: `invalid NHS number: ${problem}` }));
}

/** Refuses (and audits) a caller from another tenant, whatever they ask; null when the tenant is allowed. */
export async function admitTenant(caller: GateCaller, rules: AccessRules, store: AuditStore, now: Date): Promise<'tenant' | null> {
  if (tenantRefusal(caller, rules) === null) return null;
  await store.appendAudit(refusalAudit(caller, now, refusalOutcomes.tenant));
  return 'tenant';
}

/** Refuses (and audits) patient data outside 1:1 chats and to callers not allowed; null when the caller may go on. */
export async function admitToPatientData(
  caller: GateCaller,
  rules: AccessRules,
  store: AuditStore,
  now: Date,
): Promise<AccessRefusal | null> {
  const refusal: AccessRefusal | null = caller.conversationType !== 'personal' ? 'shared-chat' : retrievalRefusal(caller, rules);
  if (refusal !== null) await store.appendAudit(refusalAudit(caller, now, refusalOutcomes[refusal]));
  return refusal;
}

/**
 * Checks a signed card's payload (null when its signature failed) against the caller: forged, made
 * for somebody else or another chat (both audited), or expired (only refused); null when it may be used.
 */
export async function checkCardHolder(
  payload: { readonly user: string; readonly conversation: string } | null,
  caller: GateCaller,
  store: AuditStore,
  now: Date,
  expires: string | null,
): Promise<CardProblem | null> {
  let problem: CardProblem | null = null;
  if (payload === null) problem = 'forged';
  else if (payload.user !== caller.requester.teamsUserId || payload.conversation !== caller.requester.conversationId)
    problem = 'not-offered';
  else if (expires !== null && !(Date.parse(expires) >= now.getTime())) problem = 'expired';
  if (problem !== null && problem !== 'expired') await store.appendAudit(refusalAudit(caller, now, `refused: card ${problem}`));
  return problem;
}

/** The per-user search limit, counting the searches this process has started but not yet audited. */
export interface SearchLimiter {
  /** Refuses (and audits) a search over the user's per-minute limit; null when the search may go ahead. */
  admit(caller: GateCaller, store: AuditStore, now: Date): Promise<OverLimit | null>;
  /** Counts a search as in flight for its user until the returned function is called (once it is audited). */
  started(user: string): () => void;
}

/** A limiter of `perMinute` patient searches per user, for one process. */
export function createSearchLimiter(perMinute: number): SearchLimiter {
  // Searches whose audit line is written only when the PACS has answered: counted too, so a burst
  // of searches cannot outrun the limit.
  const inFlight = new Map<string, number>();
  return {
    async admit(caller, store, now) {
      const since = new Date(now.getTime() - searchWindowMs).toISOString();
      const user = caller.requester.teamsUserId;
      const recent = (await store.countAudit(user, 'patient-search', since)) + (inFlight.get(user) ?? 0);
      if (searchAllowed(recent, perMinute)) return null;
      await store.appendAudit(
        refusalAudit(caller, now, `refused: ${recent} patient searches in the last minute (limit ${perMinute})`, 'rate-limited'),
      );
      return { recent, limit: perMinute };
    },
    started(user) {
      inFlight.set(user, (inFlight.get(user) ?? 0) + 1);
      return () => {
        const left = (inFlight.get(user) ?? 1) - 1;
        if (left > 0) inFlight.set(user, left);
        else inFlight.delete(user);
      };
    },
  };
}
