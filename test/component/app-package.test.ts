/**
 * `npm run package`: the Teams app package. The zip holds manifest.json and the two icons at its
 * root; the manifest passes @microsoft/app-manifest's offline schema validation, carries the bot id
 * and version, lists commands for each scope that the running bot really understands; the icons are
 * the sizes Teams needs. No network: schemas come from the package, the Bot Connector is nock's.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { PNG } from 'pngjs';
import { AppManifestUtils } from '@microsoft/app-manifest';
import {
  buildAppPackage,
  bundledTeamsSchemaFolder,
  commandLimits,
  packageVersion,
  PackagingError,
  placeholderDeveloperUrls,
  teamsSchemaUrl,
} from '../../scripts/package-app';
import { projectRoot } from '../../src/config/config';
import { BotHarness, cardsOf, textOf } from '../support/bot-harness';
import { london } from '../support/instants';

// @microsoft/app-manifest requires strip-bom 5, which is ES-module only: plain Node 20.19+ loads it
// (require(esm)), jest's module loader on Node 20 does not. Stand in its one function, for that
// copy only (found from the package's own folder, wherever npm placed it).
jest.mock(
  require.resolve('strip-bom', { paths: [require.resolve('@microsoft/app-manifest/package.json').replace(/package\.json$/, '')] }),
  () => ({
    __esModule: true,
    default: (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text),
  }),
);

const appId = '6f1c9a52-3b7d-4e08-9a11-2c5d7e8f9a01';
const version = packageVersion();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'app-package-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function unzip(zipPath: string): Map<string, Buffer> {
  const zip = new AdmZip(zipPath);
  return new Map(zip.getEntries().map((entry) => [entry.entryName, entry.getData()]));
}

function manifestOf(files: Map<string, Buffer>): any {
  return JSON.parse(files.get('manifest.json')!.toString('utf8'));
}

/** Every string value anywhere in a JSON value. */
function allStrings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(allStrings);
  if (node && typeof node === 'object') return Object.values(node).flatMap(allStrings);
  return [];
}

describe('the Teams app package, built in-process', () => {
  const urls = {
    websiteUrl: 'https://www.example.nhs.uk/image-sharing',
    privacyUrl: 'https://www.example.nhs.uk/image-sharing/privacy',
    termsOfUseUrl: 'https://www.example.nhs.uk/image-sharing/terms',
  };
  let zipPath: string;
  let files: Map<string, Buffer>;
  let manifest: any;
  let warnings: readonly string[];

  beforeAll(async () => {
    const result = await buildAppPackage({ appId, version, developerUrls: urls, outDir: path.join(tmp, 'in-process') });
    zipPath = result.zipPath;
    warnings = result.warnings;
    files = unzip(zipPath);
    manifest = manifestOf(files);
  });

  it('is named by version and holds exactly manifest.json and the two icons at its root', () => {
    expect(zipPath).toBe(path.join(tmp, 'in-process', `image-sharing-assistant-${version}.zip`));
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    expect(manifest.icons).toEqual({ color: 'color.png', outline: 'outline.png' });
  });

  it("passes @microsoft/app-manifest's schema validation offline, with zero errors", async () => {
    expect(Number(manifest.manifestVersion)).toBeGreaterThanOrEqual(1.22);
    expect(manifest.$schema).toBe(teamsSchemaUrl(manifest.manifestVersion));
    // The package maps that $schema to its own bundled copy; any attempt to fetch would fail here.
    const bundled = path.join(bundledTeamsSchemaFolder(), `v${manifest.manifestVersion}`, 'MicrosoftTeams.schema.json');
    expect(fs.existsSync(bundled)).toBe(true);
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network in this test'));
    try {
      expect(await AppManifestUtils.validateAgainstSchema(manifest)).toEqual([]);
      // And with the bundled schema passed explicitly.
      expect(await AppManifestUtils.validateAgainstSchema(manifest, JSON.parse(fs.readFileSync(bundled, 'utf8')))).toEqual([]);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('the validator does catch a broken manifest (so zero errors means something)', async () => {
    const broken = JSON.parse(JSON.stringify(manifest));
    broken.bots[0].botId = 'not-a-guid';
    delete broken.developer.privacyUrl;
    const errors = await AppManifestUtils.validateAgainstSchema(broken);
    expect(errors.join('\n')).toMatch(/botId/);
    expect(errors.join('\n')).toMatch(/privacyUrl/);
  });

  it('fills in the bot id, the app id, the version and the developer pages; no placeholder is left', () => {
    expect(manifest.id).toBe(appId);
    expect(manifest.bots).toHaveLength(1);
    expect(manifest.bots[0].botId).toBe(appId);
    expect(manifest.version).toBe(version);
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.developer).toMatchObject(urls);
    expect(files.get('manifest.json')!.toString('utf8')).not.toMatch(/\{\{|\}\}/);
    expect(warnings).toEqual([]);
  });

  it('is a bot in personal, team and group chat scopes, with a command list for each', () => {
    const bot = manifest.bots[0];
    expect([...bot.scopes].sort()).toEqual(['groupChat', 'personal', 'team']);
    const listed = bot.commandLists.flatMap((list: any) => list.scopes);
    for (const scope of bot.scopes) expect(listed).toContain(scope);
    expect(bot.isNotificationOnly).toBe(false);
  });

  it("keeps to Teams' command limits: at most 10 a list, titles up to 32 characters, descriptions up to 128", () => {
    for (const list of manifest.bots[0].commandLists) {
      expect(list.commands.length).toBeGreaterThan(0);
      expect(list.commands.length).toBeLessThanOrEqual(commandLimits.commandsPerList);
      for (const command of list.commands) {
        expect(command.title.length).toBeLessThanOrEqual(32);
        expect(command.description.length).toBeGreaterThan(0);
        expect(command.description.length).toBeLessThanOrEqual(128);
      }
    }
  });

  it('offers patient search and retrievals only in the 1:1 chat, where the bot allows them', () => {
    const titles = (scope: string): string[] =>
      manifest.bots[0].commandLists
        .filter((list: any) => list.scopes.includes(scope))
        .flatMap((list: any) => list.commands.map((c: any) => c.title));
    expect(titles('personal')).toEqual(expect.arrayContaining(['help', 'find images', 'my retrievals', 'Taunton access', 'IEP']));
    for (const scope of ['team', 'groupChat']) {
      expect(titles(scope)).toEqual(expect.arrayContaining(['help', 'Taunton access', 'IEP']));
      expect(titles(scope)).not.toContain('find images');
      expect(titles(scope)).not.toContain('my retrievals');
    }
  });

  it('has a 192x192 full-bleed colour icon and a 32x32 outline icon of only white and fully transparent pixels', () => {
    const color = PNG.sync.read(files.get('color.png')!);
    expect([color.width, color.height]).toEqual([192, 192]);
    let seeThrough = 0;
    for (let at = 3; at < color.data.length; at += 4) if (color.data[at] !== 255) seeThrough += 1;
    expect(seeThrough).toBe(0);

    const outline = PNG.sync.read(files.get('outline.png')!);
    expect([outline.width, outline.height]).toEqual([32, 32]);
    const kinds = new Set<string>();
    for (let at = 0; at < outline.data.length; at += 4) {
      const [r, g, b, a] = outline.data.subarray(at, at + 4);
      if (a === 0) kinds.add('transparent');
      else if (r === 255 && g === 255 && b === 255 && a === 255) kinds.add('white');
      else throw new Error(`outline pixel ${at / 4} is rgba(${r}, ${g}, ${b}, ${a})`);
    }
    // Both present: a symbol on a background, not a blank square.
    expect([...kinds].sort()).toEqual(['transparent', 'white']);
  });

  it('ships the icons manifest/draw-icons.mjs draws', () => {
    const out = path.join(tmp, 'drawn');
    execFileSync(process.execPath, [path.join(projectRoot, 'manifest', 'draw-icons.mjs'), out]);
    for (const name of ['color.png', 'outline.png']) {
      const drawn = PNG.sync.read(fs.readFileSync(path.join(out, name)));
      const shipped = PNG.sync.read(files.get(name)!);
      expect(Buffer.compare(drawn.data, shipped.data)).toBe(0);
    }
  });

  it('warns when the developer pages are still the placeholders', async () => {
    const result = await buildAppPackage({ appId, version, outDir: path.join(tmp, 'placeholders') });
    expect(result.manifest.developer).toMatchObject(placeholderDeveloperUrls);
    expect(result.warnings.join('\n')).toMatch(/placeholder.*--website-url.*--privacy-url.*--terms-url/);
  });
});

describe('the packaging refuses, and writes nothing, without what Teams needs', () => {
  const refused = async (options: Parameters<typeof buildAppPackage>[0], message: RegExp): Promise<void> => {
    const outDir = path.join(tmp, `refused-${Math.random().toString(36).slice(2)}`);
    const attempt = buildAppPackage({ ...options, outDir });
    await expect(attempt).rejects.toBeInstanceOf(PackagingError);
    await expect(attempt).rejects.toThrow(message);
    expect(fs.existsSync(outDir)).toBe(false);
  };

  it("no app id: one line saying the Azure Bot's app id is needed", async () => {
    await refused({ appId: '', version }, /MicrosoftAppId is empty.*Azure Bot's app \(client\) id.*--app-id/);
    await refused({ appId: '   ', version }, /MicrosoftAppId is empty/);
  });

  it('an app id that is not a GUID, a version that is not MAJOR.MINOR.PATCH, a developer page that is not https', async () => {
    await refused({ appId: 'my-bot', version }, /not a GUID/);
    await refused({ appId, version: '1.0' }, /MAJOR\.MINOR\.PATCH/);
    await refused({ appId, version: '1.0.0-beta.1' }, /MAJOR\.MINOR\.PATCH/);
    await refused({ appId, version, developerUrls: { privacyUrl: 'http://example.nhs.uk/privacy' } }, /--privacy-url must be an https/);
  });

  it("a template that breaks the schema or Teams' command rules", async () => {
    const manifestDir = path.join(tmp, 'bad-template');
    fs.mkdirSync(manifestDir);
    for (const icon of ['color.png', 'outline.png'])
      fs.copyFileSync(path.join(projectRoot, 'manifest', icon), path.join(manifestDir, icon));
    const template = JSON.parse(fs.readFileSync(path.join(projectRoot, 'manifest', 'manifest.template.json'), 'utf8'));

    fs.writeFileSync(
      path.join(manifestDir, 'manifest.template.json'),
      JSON.stringify({ ...template, description: { short: 'x'.repeat(81), full: 'x' } }),
    );
    await refused({ appId, version, manifestDir }, /does not match the Teams schema: .*description\/short/);

    const longTitle = JSON.parse(JSON.stringify(template));
    longTitle.bots[0].commandLists[0].commands[0].title = 'a command title that is far too long for Teams';
    fs.writeFileSync(path.join(manifestDir, 'manifest.template.json'), JSON.stringify(longTitle));
    await refused({ appId, version, manifestDir }, /over 32 characters/);

    const unknown = { ...template, name: { short: '{{APP_NAME}}' } };
    fs.writeFileSync(path.join(manifestDir, 'manifest.template.json'), JSON.stringify(unknown));
    await refused({ appId, version, manifestDir }, /unknown placeholder \{\{APP_NAME\}\}/);
  });
});

describe('npm run package (the command line)', () => {
  // Compiled with tsconfig.build.json's options, as `npm run package` compiles it, but only the script and what it
  // imports, into a folder of its own: other tests building dist/, or work in progress elsewhere in src/, cannot get in the way.
  const build = path.join(projectRoot, 'dist', 'test-builds', 'app-package');
  const script = path.join(build, 'scripts', 'package-app.js');

  beforeAll(() => {
    fs.mkdirSync(build, { recursive: true });
    const tsconfig = path.join(build, 'tsconfig.json');
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: path.join(projectRoot, 'tsconfig.build.json'),
        compilerOptions: { outDir: build, rootDir: projectRoot },
        files: [path.join(projectRoot, 'scripts', 'package-app.ts')],
        include: [],
      }),
    );
    execFileSync(process.execPath, [path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], {
      cwd: projectRoot,
    });
  }, 120_000);
  afterAll(() => fs.rmSync(build, { recursive: true, force: true }));

  // MicrosoftAppId and NODE_ENV are always given, so a developer's .env cannot change the outcome (dotenv never overrides).
  const run = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [script, ...args], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...env },
      encoding: 'utf8',
    });

  it('takes the bot id from MicrosoftAppId, writes the zip and prints its path', () => {
    const out = path.join(tmp, 'cli');
    const result = run(
      { MicrosoftAppId: appId },
      '--out',
      out,
      '--website-url',
      'https://www.example.nhs.uk/',
      '--privacy-url',
      'https://www.example.nhs.uk/p',
      '--terms-url',
      'https://www.example.nhs.uk/t',
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const zipPath = path.join(out, `image-sharing-assistant-${version}.zip`);
    expect(result.stdout.trim()).toBe(zipPath);
    const files = unzip(zipPath);
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = manifestOf(files);
    expect(manifest.id).toBe(appId);
    expect(manifest.bots[0].botId).toBe(appId);
    expect(manifest.version).toBe(version);
    expect(allStrings(manifest).some((s) => s.includes('placeholder.invalid'))).toBe(false);
  });

  it('--app-id overrides the configuration', () => {
    const other = '0b4e7d2c-1a3f-4c5e-8d9b-7a6f5e4d3c2b';
    const out = path.join(tmp, 'cli-override');
    const result = run({ MicrosoftAppId: '' }, '--app-id', other, '--out', out);
    expect(result.status).toBe(0);
    // The developer pages were left to the placeholders: said on stderr, still built.
    expect(result.stderr).toMatch(/^warning: .*placeholder/);
    const manifest = manifestOf(unzip(result.stdout.trim()));
    expect(manifest.id).toBe(other);
    expect(manifest.bots[0].botId).toBe(other);
  });

  it('refuses with one clear line, and no zip, when MicrosoftAppId is empty', () => {
    const out = path.join(tmp, 'cli-refused');
    const result = run({ MicrosoftAppId: '' }, '--out', out);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/MicrosoftAppId is empty.*Azure Bot's app \(client\) id.*--app-id <uuid>/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses an unknown flag with the usage', () => {
    const result = run({ MicrosoftAppId: appId }, '--bot-id', appId);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage: npm run package');
  });
});

describe('every command in the manifest is one the running bot understands, in its scope', () => {
  const failures = [
    /could not match that to the guide/i,
    /I can only help with/i,
    /only happen in a 1:1 chat/i,
    /did not get any text/i,
    /cannot use that button/i,
  ];
  const asked = london('2026-12-03T02:00'); // Thursday 2am
  const mention = { type: 'mention', text: '<at>Image Sharing</at>', mentioned: { id: '28:bot', name: 'Image Sharing' } };
  const conversations: Record<string, Record<string, unknown>> = {
    personal: {},
    team: { conversation: { id: '19:channel@thread.tacv2', conversationType: 'channel', tenantId: 'tenant-1' }, entities: [mention] },
    groupChat: {
      conversation: { id: '19:group@thread.v2', conversationType: 'groupChat', isGroup: true, tenantId: 'tenant-1' },
      entities: [mention],
    },
  };
  const template = JSON.parse(fs.readFileSync(path.join(projectRoot, 'manifest', 'manifest.template.json'), 'utf8'));
  const cases: Array<[string, string]> = template.bots[0].commandLists.flatMap((list: any) =>
    list.scopes.flatMap((scope: string) => list.commands.map((command: any): [string, string] => [scope, command.title])),
  );
  let bot: BotHarness;

  beforeAll(async () => {
    bot = await new BotHarness().start({}, () => asked);
  });
  afterAll(async () => {
    await bot.stop();
  });

  it.each(cases)('%s: "%s"', async (scope, title) => {
    const extra = conversations[scope];
    if (!extra) throw new Error(`no test conversation for scope ${scope}`);
    const text = scope === 'personal' ? title : `<at>Image Sharing</at> ${title}`;
    const result = await bot.say(text, asked, extra);
    await bot.application.idle();
    expect(result.status).toBe(200);
    expect(result.replies.length).toBeGreaterThan(0);
    const said = result.replies.map((r) => `${r.text ?? ''}\n${cardsOf([r]).map(textOf).join('\n')}`).join('\n');
    for (const failure of failures) expect(said).not.toMatch(failure);
    if (title === 'help') expect(said).toContain('Image Sharing Assistant');
    if (title === 'my retrievals') expect(said).toMatch(/no retrievals yet/);
    if (title === 'find images') expect(said).toMatch(/NHS number/);
  });
});
