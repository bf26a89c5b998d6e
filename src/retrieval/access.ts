/**
 * Who may use the bot and who may search for patients and retrieve their images. Pure rules over
 * the configuration and the requester's identity.
 */

/** The identity the rules look at. */
export interface Caller {
  readonly tenantId: string | null;
  readonly entraObjectId: string | null;
  /** User principal name (e.g. a.clinician@uhbristol.nhs.uk), when the channel told us. */
  readonly upn: string | null;
}

/** The access rules from the configuration. */
export interface AccessRules {
  readonly mode: 'development' | 'production';
  readonly allowedTenantIds: readonly string[];
  /** Entra object ids and/or UPN domains written "@domain". */
  readonly retrievalAllowedUsers: readonly string[];
}

/** Why a caller was refused. */
export type Refusal = 'tenant' | 'not-allowed';

/** Whether the caller's tenant may use the bot at all; an empty list allows any (development). */
export function tenantRefusal(caller: Caller, rules: AccessRules): Refusal | null {
  if (rules.allowedTenantIds.length === 0) return null;
  return caller.tenantId && rules.allowedTenantIds.includes(caller.tenantId) ? null : 'tenant';
}

/**
 * Whether the caller may search for patients and retrieve. An empty allow list lets anybody in
 * development (the Emulator has no Entra identity) and nobody in production.
 */
export function retrievalRefusal(caller: Caller, rules: AccessRules): Refusal | null {
  const tenant = tenantRefusal(caller, rules);
  if (tenant) return tenant;
  if (rules.retrievalAllowedUsers.length === 0) return rules.mode === 'development' ? null : 'not-allowed';
  const byId = caller.entraObjectId !== null && rules.retrievalAllowedUsers.includes(caller.entraObjectId);
  const domain = caller.upn?.includes('@') ? `@${caller.upn.split('@').pop()!.toLowerCase()}` : null;
  const byDomain = domain !== null && rules.retrievalAllowedUsers.some((entry) => entry.toLowerCase() === domain);
  return byId || byDomain ? null : 'not-allowed';
}

/** The window over which the patient-search rate limit counts a user's searches. */
export const searchWindowMs = 60_000;

/** Whether a user who has searched `recent` times in the last minute may search again. */
export function searchAllowed(recent: number, perMinute: number): boolean {
  return recent < perMinute;
}
