/**
 * Builds the Teams app package: a zip with manifest.json, color.png and outline.png at its root,
 * ready to upload to Teams (Apps > Manage your apps > Upload an app, or the Teams admin centre).
 *
 *   npm run package
 *   npm run package -- --app-id <uuid> --website-url <https URL> --privacy-url <https URL> --terms-url <https URL> [--out <folder>]
 *
 * `manifest/manifest.template.json` is the human-edited source. Its placeholders are filled in here:
 * - {{MicrosoftAppId}}: the Azure Bot's app (client) id, from the MicrosoftAppId setting (.env or the
 *   environment, read by src/config/config.ts), or `--app-id`. With neither, packaging refuses.
 * - {{APP_VERSION}}: package.json's version (MAJOR.MINOR.PATCH). Teams only takes an upload as an
 *   update when the version has gone up.
 * - {{DEVELOPER_WEBSITE_URL}}, {{DEVELOPER_PRIVACY_URL}}, {{DEVELOPER_TERMS_URL}}: `--website-url`,
 *   `--privacy-url`, `--terms-url`. The defaults are placeholders (https://placeholder.invalid/...)
 *   that the Trust must replace with its own pages before publishing the app to the organisation.
 *
 * The manifest is validated offline against the JSON schema that @microsoft/app-manifest bundles for
 * its manifestVersion, and against the Teams rules the schema does not carry (command lengths and
 * counts, a command list for every bot scope, icon sizes, a white-on-transparent outline icon).
 * Output: dist/appPackage/image-sharing-assistant-<version>.zip (the path is printed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import AdmZip from 'adm-zip';
import { PNG } from 'pngjs';
import { AppManifestUtils, type TeamsManifest } from '@microsoft/app-manifest';
import { ConfigError, loadConfig, projectRoot } from '../src/config/config';

/** The pages Teams links to from the app's details. */
export interface DeveloperUrls {
  readonly websiteUrl: string;
  readonly privacyUrl: string;
  readonly termsOfUseUrl: string;
}

/**
 * Stand-ins for the Trust's own pages: valid https URLs (so the package builds and uploads for
 * testing) on a reserved domain that can never resolve, so nobody mistakes them for real pages.
 */
export const placeholderDeveloperUrls: DeveloperUrls = {
  websiteUrl: 'https://placeholder.invalid/image-sharing-assistant/support',
  privacyUrl: 'https://placeholder.invalid/image-sharing-assistant/privacy',
  termsOfUseUrl: 'https://placeholder.invalid/image-sharing-assistant/terms-of-use',
};

/** What one package is built from. */
export interface PackageOptions {
  /** The Azure Bot's Microsoft app id (a GUID): the bot id and the Teams app id. */
  readonly appId: string;
  /** The app version, MAJOR.MINOR.PATCH. */
  readonly version: string;
  /** Developer pages; any left out are the placeholders. */
  readonly developerUrls?: Partial<DeveloperUrls>;
  /** Folder holding manifest.template.json and the icons (default: the project's manifest/). */
  readonly manifestDir?: string;
  /** Where the zip is written (default: the project's dist/appPackage/). */
  readonly outDir?: string;
}

/** A built package. */
export interface PackageResult {
  readonly zipPath: string;
  /** The manifest.json written into the zip. */
  readonly manifest: Record<string, unknown>;
  /** Things the admin must still see to (placeholder URLs), one line each. */
  readonly warnings: readonly string[];
}

/** Why a package was not built: one line, fit for the console. */
export class PackagingError extends Error {
  override readonly name = 'PackagingError';
}

/** Teams app and bot ids are GUIDs. */
const guid = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;
/** Teams wants the app version as plain MAJOR.MINOR.PATCH (no pre-release or build suffix). */
const semver = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** Limits from Teams' bot command docs that the JSON schema is looser about. */
export const commandLimits = { commandsPerList: 10, titleChars: 32, descriptionChars: 128 } as const;
/** Icon sizes Teams requires. */
export const iconSizes = { color: 192, outline: 32 } as const;

interface Command {
  readonly title?: unknown;
  readonly description?: unknown;
}
interface CommandList {
  readonly scopes?: unknown;
  readonly commands?: readonly Command[];
}
interface Bot {
  readonly botId?: unknown;
  readonly scopes?: unknown;
  readonly commandLists?: readonly CommandList[];
}
/** The parts of a manifest read here (the schema checks the rest). */
interface ManifestView {
  readonly $schema?: unknown;
  readonly manifestVersion?: unknown;
  readonly icons?: { readonly color?: unknown; readonly outline?: unknown };
  readonly bots?: readonly Bot[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Replaces every {{NAME}} in the template's string values; an unknown or leftover name is refused. */
export function fillPlaceholders(template: unknown, values: Readonly<Record<string, string>>): unknown {
  const fill = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_whole, name: string) => {
        const value = values[name];
        if (value === undefined)
          throw new PackagingError(
            `The manifest template has an unknown placeholder {{${name}}}; known: ${Object.keys(values).join(', ')}.`,
          );
        return value;
      });
    }
    if (Array.isArray(node)) return node.map(fill);
    if (isRecord(node)) return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, fill(value)]));
    return node;
  };
  return fill(template);
}

/** The folder of @microsoft/app-manifest's bundled Teams JSON schemas (one v<version> folder each). */
export function bundledTeamsSchemaFolder(): string {
  return path.join(path.dirname(require.resolve('@microsoft/app-manifest/package.json')), 'build', 'json-schemas', 'teams');
}

/** The Teams manifest versions whose schema @microsoft/app-manifest bundles, oldest first (devPreview left out). */
export function bundledTeamsSchemaVersions(): string[] {
  const numeric = (v: string): number[] => v.split('.').map(Number);
  return fs
    .readdirSync(bundledTeamsSchemaFolder())
    .filter((name) => /^v\d+\.\d+$/.test(name) && fs.existsSync(path.join(bundledTeamsSchemaFolder(), name, 'MicrosoftTeams.schema.json')))
    .map((name) => name.slice(1))
    .sort((a, b) => {
      const [aMajor = 0, aMinor = 0] = numeric(a);
      const [bMajor = 0, bMinor = 0] = numeric(b);
      return aMajor - bMajor || aMinor - bMinor;
    });
}

/** The canonical schema URL for a manifest version (the one @microsoft/app-manifest maps to its bundled copy). */
export function teamsSchemaUrl(manifestVersion: string): string {
  return `https://developer.microsoft.com/json-schemas/teams/v${manifestVersion}/MicrosoftTeams.schema.json`;
}

/**
 * Validates a Teams manifest against the JSON schema bundled in @microsoft/app-manifest for its
 * manifestVersion, with AppManifestUtils.validateAgainstSchema. Never touches the network: the
 * schema is read from the package, and a version it does not bundle is refused.
 * Resolves with the schema errors (empty when valid).
 */
export async function validateManifestOffline(manifest: unknown): Promise<string[]> {
  if (!isRecord(manifest)) return ['the manifest is not a JSON object'];
  const version = manifest.manifestVersion;
  if (typeof version !== 'string' || !bundledTeamsSchemaVersions().includes(version)) {
    return [
      `manifestVersion ${JSON.stringify(version)} has no schema bundled in @microsoft/app-manifest (it has ${bundledTeamsSchemaVersions().join(', ')})`,
    ];
  }
  if (manifest.$schema !== teamsSchemaUrl(version)) return [`$schema must be ${teamsSchemaUrl(version)} for manifestVersion ${version}`];
  const file = path.join(bundledTeamsSchemaFolder(), `v${version}`, 'MicrosoftTeams.schema.json');
  // The same clean-up the package applies to the schema text: some schemas hold \a and \v escapes, which JSON lacks.
  const text = fs.readFileSync(file, 'utf8').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b');
  const schema = JSON.parse(text) as NonNullable<Parameters<typeof AppManifestUtils.validateAgainstSchema>[1]>;
  return AppManifestUtils.validateAgainstSchema(manifest as unknown as TeamsManifest, schema);
}

/**
 * The Teams rules the schema does not enforce: at most 10 commands per list, titles of at most 32
 * characters and descriptions of at most 128, and a command list for each scope the bot is in
 * (the Teams mobile client hides a bot that has none). Returns the problems (empty when none).
 */
export function checkCommandLists(manifest: unknown): string[] {
  const problems: string[] = [];
  const bots = (isRecord(manifest) ? (manifest as ManifestView).bots : undefined) ?? [];
  bots.forEach((bot, b) => {
    const lists = bot.commandLists ?? [];
    const covered = new Set(lists.flatMap((list) => strings(list.scopes)));
    for (const scope of strings(bot.scopes)) {
      if (!covered.has(scope)) problems.push(`bots[${b}] has no command list for its ${scope} scope`);
    }
    lists.forEach((list, l) => {
      const commands = list.commands ?? [];
      if (commands.length === 0) problems.push(`bots[${b}].commandLists[${l}] has no commands`);
      if (commands.length > commandLimits.commandsPerList)
        problems.push(`bots[${b}].commandLists[${l}] has ${commands.length} commands (at most ${commandLimits.commandsPerList})`);
      const seen = new Set<string>();
      commands.forEach((command, c) => {
        const where = `bots[${b}].commandLists[${l}].commands[${c}]`;
        const title = typeof command.title === 'string' ? command.title : '';
        if (title.trim() === '') problems.push(`${where} has no title`);
        if (title.length > commandLimits.titleChars)
          problems.push(`${where} title "${title}" is over ${commandLimits.titleChars} characters`);
        if (seen.has(title.toLowerCase())) problems.push(`${where} title "${title}" is listed twice`);
        seen.add(title.toLowerCase());
        const description = typeof command.description === 'string' ? command.description : '';
        if (description.trim() === '') problems.push(`${where} ("${title}") has no description`);
        if (description.length > commandLimits.descriptionChars)
          problems.push(`${where} ("${title}") description is over ${commandLimits.descriptionChars} characters`);
      });
    });
  });
  return problems;
}

/** A decoded PNG's size and RGBA pixels. */
export interface Png {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes a pixel, row by row. */
  readonly data: Buffer;
}

/** Decodes a PNG (any colour type) to RGBA. */
export function readPng(bytes: Buffer): Png {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}

/** True when every pixel is white (any opacity) or fully transparent: what Teams asks of an outline icon. */
export function isWhiteOnTransparent(png: Png): boolean {
  for (let at = 0; at < png.data.length; at += 4) {
    const alpha = png.data[at + 3];
    const white = png.data[at] === 255 && png.data[at + 1] === 255 && png.data[at + 2] === 255;
    if (alpha !== 0 && !white) return false;
  }
  return true;
}

/** Problems with the two icons (empty when none): sizes, a full-bleed colour icon, a white-on-transparent outline. */
export function checkIcons(color: Buffer, outline: Buffer): string[] {
  const problems: string[] = [];
  const decode = (name: string, bytes: Buffer): Png | null => {
    try {
      return readPng(bytes);
    } catch (error) {
      problems.push(`the ${name} icon is not a readable PNG (${error instanceof Error ? error.message : 'unknown error'})`);
      return null;
    }
  };
  const colorPng = decode('colour', color);
  if (colorPng) {
    if (colorPng.width !== iconSizes.color || colorPng.height !== iconSizes.color) {
      problems.push(`the colour icon is ${colorPng.width}x${colorPng.height}; Teams needs ${iconSizes.color}x${iconSizes.color}`);
    }
    for (let at = 3; at < colorPng.data.length; at += 4) {
      if (colorPng.data[at] !== 255) {
        problems.push('the colour icon has transparent pixels; Teams needs a full-bleed background');
        break;
      }
    }
  }
  const outlinePng = decode('outline', outline);
  if (outlinePng) {
    if (outlinePng.width !== iconSizes.outline || outlinePng.height !== iconSizes.outline) {
      problems.push(`the outline icon is ${outlinePng.width}x${outlinePng.height}; Teams needs ${iconSizes.outline}x${iconSizes.outline}`);
    }
    if (!isWhiteOnTransparent(outlinePng)) problems.push('the outline icon has pixels that are neither white nor fully transparent');
  }
  return problems;
}

/** A file name that stays at the zip's root (no folders, no tricks). */
function rootFileName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*\.png$/.test(value)) {
    throw new PackagingError(`The manifest's icons.${what} must be a .png file name in manifest/ (got ${JSON.stringify(value)}).`);
  }
  return value;
}

function httpsUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PackagingError(`${flag} ${JSON.stringify(value)} is not a URL.`);
  }
  if (url.protocol !== 'https:') throw new PackagingError(`${flag} must be an https:// URL (got ${JSON.stringify(value)}).`);
  return value;
}

/** Zip entries get this fixed time, so the same inputs give the same package. */
const entryTime = new Date(2000, 0, 1, 0, 0, 0);

/** Builds, checks and writes the app package. Rejects with a PackagingError (one line) when it cannot. */
export async function buildAppPackage(options: PackageOptions): Promise<PackageResult> {
  const appId = options.appId.trim();
  if (appId === '') {
    throw new PackagingError(
      "Cannot package the Teams app: MicrosoftAppId is empty. A Teams app package needs the Azure Bot's app (client) id: set MicrosoftAppId in .env or pass --app-id <uuid>.",
    );
  }
  if (!guid.test(appId))
    throw new PackagingError(
      `The app id ${JSON.stringify(appId)} is not a GUID (the Azure Bot's app (client) id looks like 00000000-0000-0000-0000-000000000000).`,
    );
  if (!semver.test(options.version))
    throw new PackagingError(
      `The version ${JSON.stringify(options.version)} must be MAJOR.MINOR.PATCH (package.json's "version"), which Teams requires.`,
    );

  const urls: DeveloperUrls = { ...placeholderDeveloperUrls, ...options.developerUrls };
  httpsUrl(urls.websiteUrl, '--website-url');
  httpsUrl(urls.privacyUrl, '--privacy-url');
  httpsUrl(urls.termsOfUseUrl, '--terms-url');
  const warnings: string[] = [];
  const flags = { websiteUrl: '--website-url', privacyUrl: '--privacy-url', termsOfUseUrl: '--terms-url' } as const;
  const placeholders = (Object.keys(flags) as Array<keyof typeof flags>).filter((key) => urls[key] === placeholderDeveloperUrls[key]);
  if (placeholders.length > 0) {
    warnings.push(
      `The developer ${placeholders.join(', ')} ${placeholders.length === 1 ? 'is a placeholder' : 'are placeholders'} (placeholder.invalid): pass ${placeholders.map((key) => flags[key]).join(', ')} with the Trust's own pages before publishing the app to the organisation.`,
    );
  }

  const manifestDir = options.manifestDir ?? path.join(projectRoot, 'manifest');
  const templateFile = path.join(manifestDir, 'manifest.template.json');
  let template: unknown;
  try {
    template = JSON.parse(fs.readFileSync(templateFile, 'utf8'));
  } catch (error) {
    throw new PackagingError(`Cannot read ${templateFile}: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  const filled = fillPlaceholders(template, {
    MicrosoftAppId: appId,
    APP_VERSION: options.version,
    DEVELOPER_WEBSITE_URL: urls.websiteUrl,
    DEVELOPER_PRIVACY_URL: urls.privacyUrl,
    DEVELOPER_TERMS_URL: urls.termsOfUseUrl,
  });
  if (!isRecord(filled)) throw new PackagingError(`${templateFile} is not a JSON object.`);
  const manifest = filled;

  const schemaErrors = await validateManifestOffline(manifest);
  if (schemaErrors.length > 0) throw new PackagingError(`The manifest does not match the Teams schema: ${schemaErrors.join('; ')}`);
  const commandProblems = checkCommandLists(manifest);
  if (commandProblems.length > 0) throw new PackagingError(`The manifest breaks Teams' command rules: ${commandProblems.join('; ')}`);

  const icons = (manifest as ManifestView).icons;
  const colorName = rootFileName(icons?.color, 'color');
  const outlineName = rootFileName(icons?.outline, 'outline');
  if (colorName === outlineName) throw new PackagingError('The colour and outline icons must be different files.');
  const readIcon = (name: string): Buffer => {
    try {
      return fs.readFileSync(path.join(manifestDir, name));
    } catch (error) {
      throw new PackagingError(
        `Cannot read the icon ${path.join(manifestDir, name)}: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
  };
  const color = readIcon(colorName);
  const outline = readIcon(outlineName);
  const iconProblems = checkIcons(color, outline);
  if (iconProblems.length > 0) throw new PackagingError(`The icons are not what Teams needs: ${iconProblems.join('; ')}`);

  const zip = new AdmZip();
  const add = (name: string, content: Buffer): void => {
    zip.addFile(name, content);
    const entry = zip.getEntry(name);
    if (entry) entry.header.time = entryTime;
  };
  add('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'));
  add(colorName, color);
  add(outlineName, outline);

  const outDir = options.outDir ?? path.join(projectRoot, 'dist', 'appPackage');
  fs.mkdirSync(outDir, { recursive: true });
  const zipPath = path.join(outDir, `image-sharing-assistant-${options.version}.zip`);
  fs.writeFileSync(zipPath, zip.toBuffer());
  return { zipPath, manifest, warnings };
}

/** package.json's version. */
export function packageVersion(root: string = projectRoot): string {
  const parsed: unknown = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const version = isRecord(parsed) ? parsed.version : undefined;
  if (typeof version !== 'string') throw new PackagingError('package.json has no "version".');
  return version;
}

const usage = [
  'Usage: npm run package [-- --app-id <uuid>] [--website-url <https URL>] [--privacy-url <https URL>] [--terms-url <https URL>] [--out <folder>]',
  "  --app-id       the Azure Bot's app (client) id (default: MicrosoftAppId from .env or the environment)",
  `  --website-url  developer support page (default, a placeholder: ${placeholderDeveloperUrls.websiteUrl})`,
  `  --privacy-url  privacy notice (default, a placeholder: ${placeholderDeveloperUrls.privacyUrl})`,
  `  --terms-url    terms of use (default, a placeholder: ${placeholderDeveloperUrls.termsOfUseUrl})`,
  '  --out          folder for the zip (default: dist/appPackage)',
].join('\n');

/** Where the command line writes. */
export interface Output {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The command line: resolves with the exit code (0 built, 1 refused, 2 bad usage). */
export async function main(argv: readonly string[], io: Output = processOutput): Promise<number> {
  let values: { 'app-id'?: string; 'website-url'?: string; 'privacy-url'?: string; 'terms-url'?: string; out?: string; help?: boolean };
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        'app-id': { type: 'string' },
        'website-url': { type: 'string' },
        'privacy-url': { type: 'string' },
        'terms-url': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : 'Bad arguments'}`);
    io.err(usage);
    return 2;
  }
  if (values.help) {
    io.out(usage);
    return 0;
  }
  try {
    let appId = values['app-id'];
    if (appId === undefined) {
      try {
        appId = loadConfig().microsoftApp.appId;
      } catch (error) {
        if (error instanceof ConfigError) throw new PackagingError(`Cannot read the configuration: ${error.message}`);
        throw error;
      }
    }
    const developerUrls: Partial<{ -readonly [K in keyof DeveloperUrls]: string }> = {};
    if (values['website-url'] !== undefined) developerUrls.websiteUrl = values['website-url'];
    if (values['privacy-url'] !== undefined) developerUrls.privacyUrl = values['privacy-url'];
    if (values['terms-url'] !== undefined) developerUrls.termsOfUseUrl = values['terms-url'];
    const result = await buildAppPackage({
      appId,
      version: packageVersion(),
      developerUrls,
      ...(values.out !== undefined ? { outDir: path.resolve(values.out) } : {}),
    });
    for (const warning of result.warnings) io.err(`warning: ${warning}`);
    io.out(result.zipPath);
    return 0;
  } catch (error) {
    if (error instanceof PackagingError) {
      io.err(error.message);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`package failed: ${error instanceof Error ? error.message : 'unknown error'}\n`);
      process.exit(1);
    },
  );
}
