/**
 * The one place that reads `process.env`. Every setting is declared once below with its
 * description, type and default; `.env.example` lists exactly these keys (a test checks it).
 */
import path from 'node:path';
import fs from 'node:fs';
import dotenv from 'dotenv';
import { IANAZone } from 'luxon';
import { z } from 'zod';

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
  HOST: setting('Address to listen on.', '0.0.0.0', z.string().min(1).default('0.0.0.0')),
  MicrosoftAppId: setting(
    'The Azure Bot registration\'s app (client) id. Empty = development mode: no authentication (Bot Framework Emulator).',
    '',
    z.string().default(''),
  ),
  MicrosoftAppPassword: setting('The app registration\'s client secret.', '', z.string().default('')),
  MicrosoftAppType: setting(
    'MultiTenant, SingleTenant (the only type new Azure bots can use) or UserAssignedMSI.',
    'SingleTenant',
    z.enum(appTypes).default('SingleTenant'),
  ),
  MicrosoftAppTenantId: setting('Microsoft Entra tenant id (required for SingleTenant and UserAssignedMSI).', '', z.string().default('')),
  TRUST_TIME_ZONE: setting(
    'IANA time zone in which the guide\'s hours are read.',
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
} as const;

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
}

/** Why the configuration was refused. */
export type ConfigErrorReason = 'invalid-value' | 'missing-credentials';

/** A configuration that must stop the start; `message` names the key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly reason: ConfigErrorReason,
    readonly key: SettingKey,
    message: string,
  ) {
    super(message);
  }
}

function read<K extends SettingKey>(env: NodeJS.ProcessEnv, key: K): z.infer<(typeof settings)[K]['schema']> {
  const raw = env[key];
  // An empty value in a .env file means "not set", so the default applies.
  const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  const result = settings[key].schema.safeParse(value);
  if (!result.success) {
    const why = result.error.issues.map((issue) => issue.message).join('; ');
    throw new ConfigError('invalid-value', key, `${key}=${JSON.stringify(raw)} is invalid: ${why}`);
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
  if (mode === 'production') {
    const missing = (key: SettingKey, why: string): never => {
      throw new ConfigError('missing-credentials', key, `NODE_ENV=production needs ${key} (${why}); refusing to start.`);
    };
    if (!microsoftApp.appId) missing('MicrosoftAppId', 'the Azure Bot app id');
    if (!env.MicrosoftAppType?.trim()) missing('MicrosoftAppType', 'MultiTenant, SingleTenant or UserAssignedMSI');
    if (microsoftApp.type !== 'UserAssignedMSI' && !microsoftApp.password) {
      missing('MicrosoftAppPassword', 'the app registration\'s client secret');
    }
    if (microsoftApp.type !== 'MultiTenant' && !microsoftApp.tenantId) {
      missing('MicrosoftAppTenantId', `required for ${microsoftApp.type}`);
    }
  }
  const guideFile = read(env, 'GUIDE_FILE');
  return {
    mode,
    port: read(env, 'PORT'),
    host: read(env, 'HOST'),
    microsoftApp,
    timeZone: read(env, 'TRUST_TIME_ZONE'),
    guideFile: path.resolve(projectRoot, guideFile),
    logLevel: read(env, 'LOG_LEVEL'),
  };
}

/** Reads `.env` (if present) into the process environment, then validates it. */
export function loadConfig(): Config {
  dotenv.config({ path: path.join(projectRoot, '.env'), quiet: true });
  return parseConfig(process.env);
}
