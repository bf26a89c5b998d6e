import { retrievalRefusal, tenantRefusal, type AccessRules } from '../../src/retrieval/access';

const caller = { tenantId: 'tenant-a', entraObjectId: 'oid-1', upn: 'a.clinician@UHBristol.nhs.uk' };
const rules = (overrides: Partial<AccessRules>): AccessRules => ({
  mode: 'production',
  allowedTenantIds: [],
  retrievalAllowedUsers: [],
  ...overrides,
});

describe('access rules', () => {
  it('allows any tenant when none are listed, only listed ones otherwise', () => {
    expect(tenantRefusal(caller, rules({}))).toBeNull();
    expect(tenantRefusal(caller, rules({ allowedTenantIds: ['tenant-a'] }))).toBeNull();
    expect(tenantRefusal(caller, rules({ allowedTenantIds: ['tenant-b'] }))).toBe('tenant');
    expect(tenantRefusal({ ...caller, tenantId: null }, rules({ allowedTenantIds: ['tenant-a'] }))).toBe('tenant');
  });

  it('lets nobody retrieve in production when no users are listed, anybody in development', () => {
    expect(retrievalRefusal(caller, rules({}))).toBe('not-allowed');
    expect(retrievalRefusal(caller, rules({ mode: 'development' }))).toBeNull();
  });

  it('allows listed Entra object ids and UPN domains (case-insensitive domain)', () => {
    expect(retrievalRefusal(caller, rules({ retrievalAllowedUsers: ['oid-1'] }))).toBeNull();
    expect(retrievalRefusal(caller, rules({ retrievalAllowedUsers: ['@uhbristol.nhs.uk'] }))).toBeNull();
    expect(retrievalRefusal(caller, rules({ retrievalAllowedUsers: ['oid-2', '@nbt.nhs.uk'] }))).toBe('not-allowed');
    expect(retrievalRefusal({ ...caller, upn: null }, rules({ retrievalAllowedUsers: ['@uhbristol.nhs.uk'] }))).toBe('not-allowed');
  });

  it('refuses another tenant even if the user is listed', () => {
    expect(retrievalRefusal(caller, rules({ allowedTenantIds: ['tenant-b'], retrievalAllowedUsers: ['oid-1'] }))).toBe('tenant');
  });
});
