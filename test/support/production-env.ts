import { ConfigError, parseConfig } from '../../src/config/config';

/**
 * A production environment that passes every start check: the credentials, a shared signing
 * secret, a tenant allow-list, the Orthanc backend and a database several instances can share.
 * Tests that hand the application their own store and PACS still need settings that parse.
 */
export const safeProduction: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  MicrosoftAppId: '11111111-1111-1111-1111-111111111111',
  MicrosoftAppPassword: 'secret',
  MicrosoftAppType: 'SingleTenant',
  MicrosoftAppTenantId: '22222222-2222-2222-2222-222222222222',
  ALLOWED_TENANT_IDS: 'tenant-1',
  CARD_SIGNING_SECRET: 'production-test-signing-secret-0123456789',
  PACS_BACKEND: 'orthanc',
  DATABASE_URL: 'postgres://bot@127.0.0.1:1/isa',
};

/** The ConfigError an environment is refused with (fails the test when it is accepted). */
export function configRefusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}
