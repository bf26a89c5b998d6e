/**
 * The gatekeeper use cases on their own: each refusal is answered as a reason and audited (an expired
 * card only refused), and searches still waiting for the PACS count toward the per-minute limit.
 */
import { createSearchLimiter, admitTenant, admitToPatientData, checkCardHolder, type GateCaller } from '../../src/retrieval/gatekeeper';
import type { AccessRules } from '../../src/retrieval/access';
import { createMemoryStore } from '../support/fakes/memory-store';

const now = new Date('2026-12-06T02:00:00Z');
const rules: AccessRules = { mode: 'production', allowedTenantIds: ['tenant-1'], retrievalAllowedUsers: ['@uhbristol.nhs.uk'] };

function caller(overrides: Partial<GateCaller> = {}): GateCaller {
  return {
    tenantId: 'tenant-1',
    entraObjectId: 'oid-1',
    upn: 'a.clinician@uhbristol.nhs.uk',
    conversationType: 'personal',
    requester: {
      teamsUserId: '29:user-1',
      entraObjectId: 'oid-1',
      displayName: 'Test Clinician',
      tenantId: 'tenant-1',
      conversationId: 'a:chat',
    },
    ...overrides,
  };
}

describe('the gatekeeper', () => {
  it('admits an allowed caller in a 1:1 chat, and refuses (auditing) a shared chat, another tenant, a user not listed', async () => {
    const store = createMemoryStore();
    expect(await admitToPatientData(caller(), rules, store, now)).toBeNull();
    expect(await admitToPatientData(caller({ conversationType: 'groupChat' }), rules, store, now)).toBe('shared-chat');
    expect(await admitToPatientData(caller({ tenantId: 'tenant-2' }), rules, store, now)).toBe('tenant');
    expect(await admitToPatientData(caller({ upn: 'someone@elsewhere.nhs.uk' }), rules, store, now)).toBe('not-allowed');
    expect(await admitTenant(caller({ tenantId: 'tenant-2' }), rules, store, now)).toBe('tenant');
    expect(await admitTenant(caller(), rules, store, now)).toBeNull();
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.map((a) => [a.action, a.outcome, a.nhsNumber])).toEqual([
      ['access-refused', 'refused: shared chat', null],
      ['access-refused', 'refused: tenant', null],
      ['access-refused', 'refused: not allowed', null],
      ['access-refused', 'refused: tenant', null],
    ]);
  });

  it('checks a card against its holder: forged and foreign refused and audited, expired only refused', async () => {
    const store = createMemoryStore();
    const mine = { user: '29:user-1', conversation: 'a:chat' };
    expect(await checkCardHolder(mine, caller(), store, now, '2026-12-06T02:30:00Z')).toBeNull();
    expect(await checkCardHolder(null, caller(), store, now, null)).toBe('forged');
    expect(await checkCardHolder({ ...mine, conversation: 'a:other' }, caller(), store, now, null)).toBe('not-offered');
    expect(await checkCardHolder(mine, caller(), store, now, '2026-12-06T01:59:59Z')).toBe('expired');
    expect((await store.auditSince('2026-01-01T00:00:00Z')).map((a) => a.outcome)).toEqual([
      'refused: card forged',
      'refused: card not-offered',
    ]);
  });

  it('counts searches still waiting for the PACS toward the limit, and audits the refusal', async () => {
    const store = createMemoryStore();
    const limiter = createSearchLimiter(2);
    const done = [limiter.started('29:user-1'), limiter.started('29:user-1')];
    expect(await limiter.admit(caller(), store, now)).toEqual({ recent: 2, limit: 2 });
    // Another process (another limiter) sees only what is audited.
    expect(await createSearchLimiter(2).admit(caller(), store, now)).toBeNull();
    done.forEach((finish) => finish());
    expect(await limiter.admit(caller(), store, now)).toBeNull();
    expect((await store.auditSince('2026-01-01T00:00:00Z')).map((a) => [a.action, a.outcome])).toEqual([
      ['rate-limited', 'refused: 2 patient searches in the last minute (limit 2)'],
    ]);
  });
});
