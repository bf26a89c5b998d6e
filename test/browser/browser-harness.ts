/**
 * Browser tests of the development chat page: the real bot (development mode, demo PACS) on a free
 * loopback port, and Debian's Chromium driven headless by playwright-core. Never Playwright's own
 * browser download: the tests use /usr/bin/chromium (apt-get install -y chromium).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createApplication, type Application } from '../../src/application';
import { createDemoPacs } from '../../src/adapters/pacs/demo-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import { parseConfig, projectRoot } from '../../src/config/config';
import { createMemoryLogger } from '../../src/logging/logger';

export const chromiumPath = '/usr/bin/chromium';

/** Headless, and quiet: without these Chromium keeps trying to reach Google's services. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where each step's screenshot goes (gitignored test artefacts). */
export const screenshotDir = path.join(projectRoot, 'test-artifacts', 'screenshots');

/** Longest wait for anything on the page: the bot answers in milliseconds, retrievals in seconds. */
export const stepTimeoutMs = 15_000;

function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * `describe` for suites that need Chromium. Without it: in CI the suite fails with a clear message
 * (CI must install it); elsewhere it is skipped with a loud notice.
 */
export function describeWithChromium(name: string, body: () => void): void {
  if (fs.existsSync(chromiumPath)) {
    describe(name, body);
    return;
  }
  if (inCi()) {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`${chromiumPath} is missing and CI is set: install it (apt-get install -y chromium) before running the tests`);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console -- the notice must be seen: these tests are not running.
  console.warn(`\n*** Chromium is not installed: browser tests of the chat page skipped; apt-get install -y chromium ***\n`);
  describe.skip(name, body);
}

/** The bot in development mode, as `npm start` runs it, with a quick demo PACS and the default 1 s poll timer. */
export async function startDevBot(): Promise<{ app: Application; url: string }> {
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', PACS_BACKEND: 'demo' });
  const app = await createApplication(config, {
    logger: createMemoryLogger('info'),
    clock: () => new Date(),
    store: createMemoryStore(),
    pacs: createDemoPacs({ retrievalMs: 500, slowSiteMs: 300 }),
  });
  const port = await app.listen();
  return { app, url: `http://127.0.0.1:${port}` };
}

/** Chromium with a fresh profile in a temporary folder (removed by close()). */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-chat-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1000, height: 900 },
    locale: 'en-GB',
    timeout: 30_000,
  });
  context.setDefaultTimeout(stepTimeoutMs);
  // Nothing leaves the machine: a link to anywhere but the bot (Action.OpenUrl) gets a stub page.
  await context.route(
    (url) => url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
    (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>External link (stubbed by the tests)</title>' }),
  );
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A message element in the page, as far as waitForBot reads it. */
interface BotItem {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
}

/** One browser tab chatting with the bot. */
export class ChatPage {
  /** Every error the page logged or threw (a test expects none). */
  readonly errors: string[] = [];
  private shots = 0;

  constructor(
    readonly page: Page,
    private readonly journey: string,
  ) {
    page.on('pageerror', (error) => this.errors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') this.errors.push(`console: ${message.text()}`);
    });
  }

  /** Opens the chat in a new tab and waits for the welcome card (sent, as on install, to a new conversation). */
  static async open(context: BrowserContext, url: string, journey: string): Promise<ChatPage> {
    const chat = new ChatPage(await context.newPage(), journey);
    await chat.page.goto(`${url}/`);
    await chat.page.locator('body[data-ready="true"]').waitFor();
    await chat.botMessage(0).locator('.card').waitFor();
    return chat;
  }

  /** The bot's messages, oldest first. */
  get botMessages(): Locator {
    return this.page.locator('#messages > li.from-bot');
  }

  /** The bot's n-th message (0-based). */
  botMessage(n: number): Locator {
    return this.botMessages.nth(n);
  }

  /** The bot's latest message. */
  lastBotMessage(): Locator {
    return this.botMessages.last();
  }

  /**
   * Waits until the bot has posted more than `count` messages and one of the new ones contains `text`;
   * returns that message, found by its activity id (so it still finds it after an update in place).
   */
  async waitForBot(count: number, text: string | RegExp, timeout = stepTimeoutMs): Promise<Locator> {
    const handle = await this.page.waitForFunction(
      ({ before, wanted, flags }) => {
        // Runs in the page (tsconfig has no DOM types): the page's document, typed as far as used here.
        const doc = (globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<BotItem> } }).document;
        const items = Array.from(doc.querySelectorAll('#messages > li.from-bot')).slice(before);
        const re = new RegExp(wanted, flags);
        return items.find((item) => re.test(item.textContent ?? ''))?.dataset.activityId ?? false;
      },
      {
        before: count,
        wanted: typeof text === 'string' ? text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : text.source,
        flags: typeof text === 'string' ? '' : text.flags,
      },
      { timeout },
    );
    return this.byId((await handle.jsonValue()) as string);
  }

  /** A message by its activity id. */
  byId(activityId: string): Locator {
    return this.page.locator(`#messages > li[data-activity-id="${activityId}"]`);
  }

  /** Types into the message box and sends with the Send button. */
  async say(text: string): Promise<number> {
    const before = await this.botMessages.count();
    await this.page.getByLabel('Message', { exact: true }).fill(text);
    await this.page.getByRole('button', { name: 'Send', exact: true }).click();
    return before;
  }

  /** Presses a card button (by its title, starting with `title`) on the bot's message `message` (default: the latest). */
  async press(title: string | RegExp, message: Locator = this.lastBotMessage()): Promise<number> {
    const before = await this.botMessages.count();
    const name = typeof title === 'string' ? new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) : title;
    // Action.OpenUrl buttons have the role "link" (adaptivecards 3).
    await message.getByRole('button', { name }).or(message.getByRole('link', { name })).first().click();
    return before;
  }

  /** Sets "Pretend it is" to a UK wall-clock time (YYYY-MM-DDTHH:MM). */
  async pretend(wallClock: string): Promise<void> {
    await this.page.getByLabel(/Pretend it is/).fill(wallClock);
  }

  /** Saves a screenshot of the tab as test-artifacts/screenshots/<journey>-<nn>-<step>.png. */
  async shot(step: string): Promise<string> {
    this.shots += 1;
    fs.mkdirSync(screenshotDir, { recursive: true });
    const file = path.join(screenshotDir, `${this.journey}-${String(this.shots).padStart(2, '0')}-${step}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Runs a journey; when it fails, saves a screenshot of where it stopped before passing the failure on. */
  async run(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      await this.shot('failed').catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}
