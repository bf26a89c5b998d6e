/**
 * The one place that reads `process.env`: the entry point of the configuration. Every setting is
 * declared once in settings.ts with its description, type and default; `.env.example` lists exactly
 * those keys (a test checks it). The rules each mode refuses to start with are in mode-rules.ts.
 */
import path from 'node:path';
import fs from 'node:fs';
import dotenv from 'dotenv';
import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
import { viewerTemplateProblem, type ViewerTemplateProblem } from '../domain/viewer/viewer-link';
import type { PacsSite } from './config-fields';
import { refuseRealDataInDevelopment, refuseUnsafeDevelopment, refuseUnsafeProduction, requireProductionCredentials } from './mode-rules';
import { readSetting as read, type AppType, type LogLevel, type SettingKey } from './settings';

export { ConfigError, type ConfigErrorReason } from './config-error';
export type { PacsSite } from './config-fields';
export { settings, type AppType, type LogLevel, type SettingKey } from './settings';

/** Root of the project (the folder holding package.json), from src/ or dist/src/. */
export const projectRoot: string = findProjectRoot(__dirname);

function findProjectRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** The validated configuration the rest of the bot receives. */
export interface Config {
  readonly mode: 'development' | 'production';
  readonly port: number;
  readonly host: string;
  readonly microsoftApp: {
    readonly appId: string;
    readonly password: string;
    readonly type: AppType;
    readonly tenantId: string;
  };
  readonly timeZone: string;
  readonly guideFile: string;
  readonly logLevel: LogLevel;
  readonly pacs: {
    readonly backend: 'demo' | 'orthanc';
    readonly orthancUrl: string;
    readonly username: string;
    readonly password: string;
    readonly localAet: string;
    readonly sites: readonly PacsSite[];
    readonly queryTimeoutMs: number;
    /** How often retrievals in flight are polled, in ms. */
    readonly pollIntervalMs: number;
  };
  /** 'sqlite:<absolute path>' or a postgres:// URL. */
  readonly databaseUrl: string;
  readonly access: {
    readonly allowedTenantIds: readonly string[];
    readonly retrievalAllowedUsers: readonly string[];
    /** Patient searches one user may make per minute. */
    readonly searchesPerMinute: number;
  };
  /** Signs retrieval card data; random per process when not configured (development only). */
  readonly cardSigningSecret: string;
  /** Still accepted when verifying card data, after a rotation; null when none. */
  readonly previousCardSigningSecret: string | null;
  /** Days the audit trail is kept; null = for ever. */
  readonly auditRetentionDays: number | null;
  /** VIEWER_URL_TEMPLATE, checked ({StudyInstanceUID}, perhaps {AccessionNumber}; https in production); null = no "Open images" button. */
  readonly viewerUrlTemplate: string | null;
  /** How long one Bot Connector request may take, in ms. */
  readonly connectorTimeoutMs: number;
}

/** Settings whose values are secrets: never printed, and blanked out of any start-up message. */
const secretKeys: readonly SettingKey[] = [
  'MicrosoftAppPassword',
  'CARD_SIGNING_SECRET',
  'CARD_SIGNING_SECRET_PREVIOUS',
  'ORTHANC_PASSWORD',
  'DATABASE_URL',
];

/**
 * `text` with every configured secret (and a database URL's password) replaced by [redacted]: a
 * last guard on what a refused start prints, whatever library wrote the message.
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const secrets = new Set<string>();
  for (const key of secretKeys) {
    const value = env[key]?.trim();
    if (!value) continue;
    secrets.add(value);
    // postgres://user:password@host/...: the password alone may be quoted too.
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]+)@/i.exec(value)?.[1];
    if (password) {
      secrets.add(password);
      try {
        secrets.add(decodeURIComponent(password));
      } catch {
        // Not percent-encoded: the raw form is enough.
      }
    }
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('[redacted]');
  return out;
}

/**
 * Validates an environment into a Config. Throws ConfigError naming the first bad key.
 * Production refuses to run without the credentials Teams needs, so development mode
 * (no authentication) can never be switched on by accident there.
 */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const nodeEnv = read(env, 'NODE_ENV');
  const microsoftApp = {
    appId: read(env, 'MicrosoftAppId'),
    password: read(env, 'MicrosoftAppPassword'),
    type: read(env, 'MicrosoftAppType'),
    tenantId: read(env, 'MicrosoftAppTenantId'),
  };
  const mode = nodeEnv === 'production' ? 'production' : 'development';
  const host = read(env, 'HOST') || (mode === 'production' ? '0.0.0.0' : '127.0.0.1');
  if (mode === 'development') refuseUnsafeDevelopment(microsoftApp, host);
  if (mode === 'production') requireProductionCredentials(env, microsoftApp);
  const backend = read(env, 'PACS_BACKEND');
  const database = databaseUrl(read(env, 'DATABASE_URL'));
  if (mode === 'development' && read(env, 'TEST_LAB') !== 'true') refuseRealDataInDevelopment(backend, database);
  if (mode === 'production') refuseUnsafeProduction(env, backend, database);
  const guideFile = read(env, 'GUIDE_FILE');
  const retention = read(env, 'AUDIT_RETENTION_DAYS');
  const viewer = viewerTemplate(read(env, 'VIEWER_URL_TEMPLATE'), mode === 'production');
  return {
    mode,
    port: read(env, 'PORT'),
    host,
    microsoftApp,
    timeZone: read(env, 'TRUST_TIME_ZONE'),
    guideFile: path.resolve(projectRoot, guideFile),
    logLevel: read(env, 'LOG_LEVEL'),
    pacs: {
      backend,
      orthancUrl: read(env, 'ORTHANC_URL').replace(/\/+$/, ''),
      username: read(env, 'ORTHANC_USERNAME'),
      password: read(env, 'ORTHANC_PASSWORD'),
      localAet: read(env, 'PACS_LOCAL_AET'),
      sites: read(env, 'PACS_SITES'),
      queryTimeoutMs: read(env, 'PACS_QUERY_TIMEOUT_S') * 1000,
      pollIntervalMs: Math.round(read(env, 'PACS_POLL_INTERVAL_S') * 1000),
    },
    databaseUrl: database,
    access: {
      allowedTenantIds: read(env, 'ALLOWED_TENANT_IDS'),
      retrievalAllowedUsers: read(env, 'RETRIEVAL_ALLOWED_USERS'),
      searchesPerMinute: read(env, 'PATIENT_SEARCHES_PER_MINUTE'),
    },
    cardSigningSecret: read(env, 'CARD_SIGNING_SECRET') || randomBytes(32).toString('hex'),
    previousCardSigningSecret: read(env, 'CARD_SIGNING_SECRET_PREVIOUS') || null,
    auditRetentionDays: retention === '' ? null : retention,
    viewerUrlTemplate: viewer,
    connectorTimeoutMs: Math.round(read(env, 'CONNECTOR_TIMEOUT_S') * 1000),
  };
}

/** What each template problem requires, in words that never quote the value. */
const viewerRules: Record<ViewerTemplateProblem, string> = {
  'no-placeholder': 'must contain {StudyInstanceUID} where the study goes',
  'unknown-placeholder': 'may contain no placeholder but {StudyInstanceUID} and {AccessionNumber}',
  'not-a-url': 'must be an http(s) URL once its placeholders are filled in',
  'not-https': 'must be an https URL in production',
};

/** VIEWER_URL_TEMPLATE checked; null when empty (no button). */
function viewerTemplate(value: string, production: boolean): string | null {
  if (value === '') return null;
  const problem = viewerTemplateProblem(value, production);
  if (problem !== null)
    throw new ConfigError('invalid-value', 'VIEWER_URL_TEMPLATE', `VIEWER_URL_TEMPLATE is invalid: ${viewerRules[problem]}`);
  return value;
}

function databaseUrl(value: string): string {
  if (value === '') return `sqlite:${path.join(projectRoot, 'data', 'image-sharing.sqlite')}`;
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) return value;
  if (value === 'sqlite::memory:') return value;
  if (value.startsWith('sqlite:')) return `sqlite:${path.resolve(projectRoot, value.slice('sqlite:'.length))}`;
  throw new ConfigError('invalid-value', 'DATABASE_URL', 'DATABASE_URL is invalid: must be sqlite:PATH or postgres://...');
}

/** Reads `.env` (if present) into the process environment, then validates it. */
export function loadConfig(): Config {
  dotenv.config({ path: path.join(projectRoot, '.env'), quiet: true });
  return parseConfig(process.env);
}
