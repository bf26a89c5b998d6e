/**
 * The one place that reads `process.env`. Every setting is declared once below with its
 * description, type and default; `.env.example` lists exactly these keys (a test checks it).
 */
import path from 'node:path';
import fs from 'node:fs';
import dotenv from 'dotenv';
import { randomBytes } from 'node:crypto';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { AppError } from '../domain/app-error';
import { insigniaSiteIds } from '../domain/guide/guide';

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

const appTypes = ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'] as const;
/** How the bot's Microsoft Entra identity is registered. */
export type AppType = (typeof appTypes)[number];

const logLevels = ['debug', 'info', 'warn', 'error'] as const;
/** Lowest severity written to the log. */
export type LogLevel = (typeof logLevels)[number];

interface Setting<T> {
  readonly description: string;
  readonly example: string;
  readonly schema: z.ZodType<T, z.ZodTypeDef, unknown>;
}

function setting<T>(description: string, example: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>): Setting<T> {
  return { description, example, schema };
}

const port = z.coerce.number().int().min(0).max(65535);

/** Every setting the bot reads, with its description, an example for `.env.example` and its default. */
export const settings = {
  NODE_ENV: setting(
    '"production" requires the Microsoft app credentials and authenticates every request; anything else is development mode.',
    'development',
    z.enum(['development', 'production', 'test']).default('development'),
  ),
  PORT: setting('TCP port for /api/messages and /healthz.', '3978', port.default(3978)),
  HOST: setting(
    'Address to listen on; empty = 0.0.0.0 in production, 127.0.0.1 (this machine only) in development, which refuses any other.',
    '',
    z.string().default(''),
  ),
  MicrosoftAppId: setting(
    "The Azure Bot registration's app (client) id. Empty = development mode: no authentication (Bot Framework Emulator).",
    '',
    z.string().default(''),
  ),
  MicrosoftAppPassword: setting("The app registration's client secret.", '', z.string().default('')),
  MicrosoftAppType: setting(
    'MultiTenant, SingleTenant (the only type new Azure bots can use) or UserAssignedMSI.',
    'SingleTenant',
    z.enum(appTypes).default('SingleTenant'),
  ),
  MicrosoftAppTenantId: setting('Microsoft Entra tenant id (required for SingleTenant and UserAssignedMSI).', '', z.string().default('')),
  TRUST_TIME_ZONE: setting(
    "IANA time zone in which the guide's hours are read.",
    'Europe/London',
    z
      .string()
      .default('Europe/London')
      .refine((zone) => IANAZone.isValidZone(zone), 'is not a valid IANA time zone'),
  ),
  GUIDE_FILE: setting(
    'Path of the guide data file (relative paths are from the project folder).',
    'content/guide.json',
    z.string().min(1).default('content/guide.json'),
  ),
  LOG_LEVEL: setting('debug, info, warn or error.', 'info', z.enum(logLevels).default('info')),
  TEST_LAB: setting(
    'true only on a test lab (synthetic patients): lets development mode, which does not ' +
      'authenticate, use PACS_BACKEND=orthanc and a PostgreSQL database.',
    'false',
    z.enum(['true', 'false']).default('false'),
  ),
  PACS_BACKEND: setting(
    "demo (synthetic patients and sites, clearly labelled) or orthanc (the trust's DICOM gateway).",
    'demo',
    z.enum(['demo', 'orthanc']).default('demo'),
  ),
  ORTHANC_URL: setting(
    "Base URL of the Orthanc REST API in front of UH Bristol's PACS.",
    'http://127.0.0.1:8042',
    z.string().url().default('http://127.0.0.1:8042'),
  ),
  ORTHANC_USERNAME: setting('Orthanc HTTP user for the bot.', '', z.string().default('')),
  ORTHANC_PASSWORD: setting('Orthanc HTTP password for the bot.', '', z.string().default('')),
  PACS_LOCAL_AET: setting(
    "AE title of UH Bristol's PACS: the C-MOVE destination.",
    'UHB_PACS',
    z
      .string()
      .regex(/^[ -~]{1,16}$/, 'must be 1-16 printable characters')
      .default('UHB_PACS'),
  ),
  PACS_SITES: setting(
    'Peer-to-peer sites, comma-separated site-id:ORTHANC_MODALITY[:NHS_NUMBER_ATTRIBUTE] ' +
      '(default attribute PatientID); site ids from the guide: weston, north-devon, exeter, ' +
      'plymouth, cornwall, south-devon, dorset-county.',
    'exeter:EXETER',
    z
      .string()
      .default('')
      .transform((value, ctx) => parseSites(value, ctx)),
  ),
  PACS_QUERY_TIMEOUT_S: setting(
    "Seconds to wait for each site's C-FIND before calling it timed out.",
    '10',
    z.coerce.number().min(1).max(120).default(10),
  ),
  PACS_POLL_INTERVAL_S: setting(
    'Seconds between polls of the PACS for retrievals in flight (one status request per poll, however many are in flight).',
    '0.5',
    z.coerce.number().min(0.1).max(60).default(0.5),
  ),
  CONNECTOR_TIMEOUT_S: setting(
    'Seconds one request to the Bot Connector (a message, a card update, a member look-up) may ' +
      'take before it counts as failed and is retried later.',
    '15',
    z.coerce.number().min(0.1).max(120).default(15),
  ),
  PATIENT_SEARCHES_PER_MINUTE: setting(
    'Patient searches one user may make per minute; more are refused and audited.',
    '30',
    z.coerce.number().int().min(1).max(1000).default(30),
  ),
  DATABASE_URL: setting(
    'Where retrievals, notifications and the audit trail are kept: empty = SQLite file ' +
      'data/image-sharing.sqlite; sqlite:PATH; or postgres://... (for several instances).',
    '',
    z.string().default(''),
  ),
  ALLOWED_TENANT_IDS: setting(
    'Comma-separated Microsoft Entra tenant ids allowed to use the bot; required in production; empty in development = any.',
    '',
    z.string().default('').transform(list),
  ),
  CARD_SIGNING_SECRET: setting(
    'Secret (32+ characters, the same on every instance) that signs the patient and study data ' +
      'in retrieval cards; required in production; empty in development = a random one at each start.',
    '',
    z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]).default(''),
  ),
  CARD_SIGNING_SECRET_PREVIOUS: setting(
    'The signing secret before the last rotation: cards it signed (each open for up to 30 ' +
      'minutes) are still accepted; new ones are signed with CARD_SIGNING_SECRET. Empty = none.',
    '',
    z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]).default(''),
  ),
  SINGLE_INSTANCE: setting(
    'true says exactly one instance of the bot runs: required in production to use SQLite (a ' +
      'file only one process may own); several instances need PostgreSQL.',
    'false',
    z.enum(['true', 'false']).default('false'),
  ),
  AUDIT_RETENTION_DAYS: setting(
    'Days the audit trail is kept; older events are purged by the poll loop (the purge is itself audited). Empty = keep everything.',
    '',
    z.union([z.literal(''), z.coerce.number().int().min(1).max(36500)]).default(''),
  ),
  RETRIEVAL_ALLOWED_USERS: setting(
    'Who may search for patients and retrieve: comma-separated Entra object ids and/or UPN ' +
      'domains (@uhbristol.nhs.uk); empty = nobody in production, anybody in development.',
    '',
    z.string().default('').transform(list),
  ),
} as const;

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** One configured peer-to-peer site. */
export interface PacsSite {
  readonly site: string;
  /** The modality's symbolic name in Orthanc's DicomModalities. */
  readonly modality: string;
  /** The DICOM attribute that carries the NHS number at that site. */
  readonly nhsNumberAttribute: string;
}

/** The peer-to-peer sites' ids, as the guide names them. */
const siteIds: readonly string[] = insigniaSiteIds;

function parseSites(value: string, ctx: z.RefinementCtx): PacsSite[] {
  const sites: PacsSite[] = [];
  for (const [index, entry] of list(value).entries()) {
    const [site = '', modality = '', attribute = 'PatientID', ...rest] = entry.split(':').map((p) => p.trim());
    if (!siteIds.includes(site) || !/^[A-Za-z0-9_-]+$/.test(modality) || !/^[A-Za-z]+$/.test(attribute) || rest.length > 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `entry ${index + 1} must be site-id:MODALITY[:Attribute] with a site id from ${siteIds.join(', ')}`,
      });
      return z.NEVER;
    }
    if (sites.some((s) => s.site === site)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `entry ${index + 1} names a site listed before it` });
      return z.NEVER;
    }
    sites.push({ site, modality, nhsNumberAttribute: attribute });
  }
  return sites;
}

/** Name of a setting. */
export type SettingKey = keyof typeof settings;

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
  /** How long one Bot Connector request may take, in ms. */
  readonly connectorTimeoutMs: number;
}

/** Why the configuration was refused. */
export type ConfigErrorReason = 'invalid-value' | 'missing-credentials' | 'unsafe-development' | 'unsafe-production';

/** Whether `host` is this machine only (IPv4 127.0.0.0/8, ::1 or localhost). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A configuration that must stop the start; `message` names the key. */
export class ConfigError extends AppError<ConfigErrorReason> {
  override readonly name = 'ConfigError';
  constructor(
    reason: ConfigErrorReason,
    readonly key: SettingKey,
    message: string,
  ) {
    super(reason, message);
  }
}

/** What a failed check requires, in words that never quote the value given (zod's may). */
function ruleOf(issue: z.ZodIssue): string {
  if (issue.code === z.ZodIssueCode.invalid_enum_value) return `must be one of ${issue.options.map(String).join(', ')}`;
  if (issue.code === z.ZodIssueCode.invalid_type) return `must be ${issue.expected}`;
  if (issue.code === z.ZodIssueCode.invalid_union) {
    // A union's branches each say what they wanted; the literal '' branch only means "or empty".
    const rules = issue.unionErrors.flatMap((e) => e.issues.filter((i) => i.code !== z.ZodIssueCode.invalid_literal).map(ruleOf));
    return [...new Set(rules)].join(' or ') || 'is not allowed';
  }
  return issue.message;
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

function read<K extends SettingKey>(env: NodeJS.ProcessEnv, key: K): z.infer<(typeof settings)[K]['schema']> {
  const raw = env[key];
  // An empty value in a .env file means "not set", so the default applies.
  const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  const result = settings[key].schema.safeParse(value);
  if (!result.success) {
    // The key and the rule, never the value: a setting may be a secret (a password, a signing key).
    const why = result.error.issues.map(ruleOf).join('; ');
    throw new ConfigError('invalid-value', key, `${key} is invalid: ${why}`);
  }
  return result.data;
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
  if (mode === 'development') {
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
  if (mode === 'production') {
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
  const backend = read(env, 'PACS_BACKEND');
  const database = databaseUrl(read(env, 'DATABASE_URL'));
  if (mode === 'development' && read(env, 'TEST_LAB') !== 'true') {
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
  if (mode === 'production') refuseUnsafeProduction(env, backend, database);
  const guideFile = read(env, 'GUIDE_FILE');
  const retention = read(env, 'AUDIT_RETENTION_DAYS');
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
    connectorTimeoutMs: Math.round(read(env, 'CONNECTOR_TIMEOUT_S') * 1000),
  };
}

/**
 * Production settings that would start a bot that fails at 2am: each refused with one line naming
 * the setting. Run after the credentials check, so a bare NODE_ENV=production still asks for those first.
 */
function refuseUnsafeProduction(env: NodeJS.ProcessEnv, backend: 'demo' | 'orthanc', database: string): void {
  const refuse = (key: SettingKey, why: string): never => {
    throw new ConfigError('unsafe-production', key, `NODE_ENV=production ${why}; refusing to start.`);
  };
  // Each instance would sign with its own random secret: a card from one is "forged" to the next.
  if (!read(env, 'CARD_SIGNING_SECRET'))
    refuse('CARD_SIGNING_SECRET', 'needs CARD_SIGNING_SECRET (32+ characters, the same on every instance)');
  const previous = read(env, 'CARD_SIGNING_SECRET_PREVIOUS');
  if (previous && previous === read(env, 'CARD_SIGNING_SECRET')) {
    refuse(
      'CARD_SIGNING_SECRET_PREVIOUS',
      'needs CARD_SIGNING_SECRET_PREVIOUS to differ from CARD_SIGNING_SECRET (it is the secret before the rotation)',
    );
  }
  if (read(env, 'ALLOWED_TENANT_IDS').length === 0)
    refuse('ALLOWED_TENANT_IDS', 'needs ALLOWED_TENANT_IDS (the Entra tenant ids allowed to use the bot; empty would let any tenant in)');
  if (backend === 'demo')
    refuse('PACS_BACKEND', 'cannot use PACS_BACKEND=demo (synthetic patients); set PACS_BACKEND=orthanc and the PACS settings');
  if (database === 'sqlite::memory:')
    refuse('DATABASE_URL', 'cannot keep retrievals and the audit trail in memory (lost at every restart); use a SQLite file or PostgreSQL');
  if (database.startsWith('sqlite:') && read(env, 'SINGLE_INSTANCE') !== 'true') {
    refuse(
      'SINGLE_INSTANCE',
      'uses SQLite, which only one instance may own: set SINGLE_INSTANCE=true if exactly one ' +
        'instance runs, or DATABASE_URL=postgres://... for several',
    );
  }
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
