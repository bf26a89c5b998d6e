/**
 * Every setting the bot reads, declared once with its description, type and default
 * (`.env.example` lists exactly these keys; a test checks it), and how one is read and validated.
 */
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { list, parseSites } from './config-fields';

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
  VIEWER_URL_TEMPLATE: setting(
    'Optional "Open images" button on completion messages and status cards: a viewer URL with ' +
      '{StudyInstanceUID} where the study goes, and optionally {AccessionNumber} as well (never alone: ' +
      'accession numbers are unique only within the RIS that issued them). https in production. Empty = no button.',
    '',
    z.string().default(''),
  ),
  RETRIEVAL_ALLOWED_USERS: setting(
    'Who may search for patients and retrieve: comma-separated Entra object ids and/or UPN ' +
      'domains (@uhbristol.nhs.uk); empty = nobody in production, anybody in development.',
    '',
    z.string().default('').transform(list),
  ),
} as const;

/** Name of a setting. */
export type SettingKey = keyof typeof settings;

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

/** The value of setting `key` in `env`, validated; an empty value takes the default. Throws ConfigError naming the key. */
export function readSetting<K extends SettingKey>(env: NodeJS.ProcessEnv, key: K): z.infer<(typeof settings)[K]['schema']> {
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
