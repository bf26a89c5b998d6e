/**
 * The settings each mode refuses to start with, each refusal one ConfigError naming the setting:
 * development mode (no authentication) must never reach real credentials, other machines or real
 * patient data, and production must have its credentials and nothing that fails at 2am.
 */
import { ConfigError } from './config-error';
import { readSetting, type AppType, type SettingKey } from './settings';

/** The bot's Microsoft app registration, as configured. */
export interface MicrosoftApp {
  readonly appId: string;
  readonly password: string;
  readonly type: AppType;
  readonly tenantId: string;
}

/** Whether `host` is this machine only (IPv4 127.0.0.0/8, ::1 or localhost). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Development mode refuses real credentials and a listening address other machines can reach. */
export function refuseUnsafeDevelopment(microsoftApp: MicrosoftApp, host: string): void {
  // Development mode has unauthenticated extras (the browser chat): never let a real deployment fall into it.
  if (microsoftApp.password) {
    throw new ConfigError(
      'unsafe-development',
      'NODE_ENV',
      'MicrosoftAppPassword is set but NODE_ENV is not "production": a bot with real credentials ' +
        'must run in production mode; refusing to start.',
    );
  }
  if (!isLoopback(host)) {
    throw new ConfigError(
      'unsafe-development',
      'HOST',
      'HOST in development mode must be a loopback address (other machines could reach the ' +
        'unauthenticated bot); use 127.0.0.1, or NODE_ENV=production; refusing to start.',
    );
  }
}

/** Production refuses to start without the credentials Teams needs for the app's type. */
export function requireProductionCredentials(env: NodeJS.ProcessEnv, microsoftApp: MicrosoftApp): void {
  const missing = (key: SettingKey, why: string): never => {
    throw new ConfigError('missing-credentials', key, `NODE_ENV=production needs ${key} (${why}); refusing to start.`);
  };
  if (!microsoftApp.appId) missing('MicrosoftAppId', 'the Azure Bot app id');
  if (!env.MicrosoftAppType?.trim()) missing('MicrosoftAppType', 'MultiTenant, SingleTenant or UserAssignedMSI');
  if (microsoftApp.type !== 'UserAssignedMSI' && !microsoftApp.password) {
    missing('MicrosoftAppPassword', "the app registration's client secret");
  }
  if (microsoftApp.type !== 'MultiTenant' && !microsoftApp.tenantId) {
    missing('MicrosoftAppTenantId', `required for ${microsoftApp.type}`);
  }
}

/** Development mode outside a test lab refuses a real PACS and a shared (PostgreSQL) database. */
export function refuseRealDataInDevelopment(backend: 'demo' | 'orthanc', database: string): void {
  // Without authentication anybody who can reach the bot could search real patients: only on a test lab.
  if (backend === 'orthanc') {
    throw new ConfigError(
      'unsafe-development',
      'PACS_BACKEND',
      'PACS_BACKEND=orthanc in development mode would let anyone reaching the unauthenticated ' +
        'bot search a real PACS; use NODE_ENV=production, the demo backend, or TEST_LAB=true on a ' +
        'test lab; refusing to start.',
    );
  }
  if (database.startsWith('postgres')) {
    throw new ConfigError(
      'unsafe-development',
      'DATABASE_URL',
      'DATABASE_URL names a PostgreSQL database in development mode, which is for a shared ' +
        'deployment; use NODE_ENV=production, SQLite, or TEST_LAB=true on a test lab; refusing to start.',
    );
  }
}

/**
 * Production settings that would start a bot that fails at 2am: each refused with one line naming
 * the setting. Run after the credentials check, so a bare NODE_ENV=production still asks for those first.
 */
export function refuseUnsafeProduction(env: NodeJS.ProcessEnv, backend: 'demo' | 'orthanc', database: string): void {
  const refuse = (key: SettingKey, why: string): never => {
    throw new ConfigError('unsafe-production', key, `NODE_ENV=production ${why}; refusing to start.`);
  };
  // Each instance would sign with its own random secret: a card from one is "forged" to the next.
  if (!readSetting(env, 'CARD_SIGNING_SECRET'))
    refuse('CARD_SIGNING_SECRET', 'needs CARD_SIGNING_SECRET (32+ characters, the same on every instance)');
  const previous = readSetting(env, 'CARD_SIGNING_SECRET_PREVIOUS');
  if (previous && previous === readSetting(env, 'CARD_SIGNING_SECRET')) {
    refuse(
      'CARD_SIGNING_SECRET_PREVIOUS',
      'needs CARD_SIGNING_SECRET_PREVIOUS to differ from CARD_SIGNING_SECRET (it is the secret before the rotation)',
    );
  }
  if (readSetting(env, 'ALLOWED_TENANT_IDS').length === 0)
    refuse('ALLOWED_TENANT_IDS', 'needs ALLOWED_TENANT_IDS (the Entra tenant ids allowed to use the bot; empty would let any tenant in)');
  if (backend === 'demo')
    refuse('PACS_BACKEND', 'cannot use PACS_BACKEND=demo (synthetic patients); set PACS_BACKEND=orthanc and the PACS settings');
  if (database === 'sqlite::memory:')
    refuse('DATABASE_URL', 'cannot keep retrievals and the audit trail in memory (lost at every restart); use a SQLite file or PostgreSQL');
  if (database.startsWith('sqlite:') && readSetting(env, 'SINGLE_INSTANCE') !== 'true') {
    refuse(
      'SINGLE_INSTANCE',
      'uses SQLite, which only one instance may own: set SINGLE_INSTANCE=true if exactly one ' +
        'instance runs, or DATABASE_URL=postgres://... for several',
    );
  }
}
