/**
 * The development chat page in a real browser (Debian's Chromium, headless, via playwright-core):
 * a person asks a time-aware question, walks the decision tree by clicking, and finds a demo patient,
 * retrieves a study and sees the completion notification arrive. Every step's screenshot is saved in
 * test-artifacts/screenshots/.
 */
import type { BrowserContext } from 'playwright-core';
import type { Application } from '../../src/application';
import { ChatPage, describeWithChromium, launchChromium, startDevBot } from './browser-harness';

const journeyTimeoutMs = 90_000;

describeWithChromium('the development chat page in Chromium', () => {
  let app: Application | undefined;
  let url = '';
  let browser: { context: BrowserContext; close: () => Promise<void> } | undefined;
  let chat: ChatPage | undefined;

  beforeAll(async () => {
    ({ app, url } = await startDevBot());
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    const errors = chat?.errors ?? [];
    await chat?.close();
    chat = undefined;
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, 30_000);

  const open = async (journey: string): Promise<ChatPage> => {
    chat = await ChatPage.open(browser!.context, url, journey);
    return chat;
  };

  it(
    'answers "how do I get Taunton access at 2am?" with the CT radiographer\'s number, and the time can be pretended',
    async () => {
      const page = await open('question');
      await page.run(async () => {
        await expect(page.botMessage(0).textContent()).resolves.toContain('Image Sharing Assistant');
        await page.shot('welcome');

        let before = await page.say('how do I get Taunton access at 2am?');
        let answer = await page.waitForBot(before, 'Taunton CT Radiographer');
        let text = (await answer.textContent()) ?? '';
        expect(text).toMatch(/At 02:00 on \w{3} \d{1,2} \w{3} \((GMT|BST)\): emergency access applies/);
        expect(text).toContain('01823 343317');
        expect(text).toContain('Bleep 2310');
        await page.shot('taunton-at-2am');

        // "2am in the afternoon": pretend it is 02:00 on a winter Thursday, and ask without a time.
        await page.pretend('2026-12-03T02:00');
        const status = page.page.locator('#pretend-status');
        await expect(status.textContent()).resolves.toContain('Thu 3 Dec 2026 02:00 GMT (2026-12-03T02:00:00.000Z)');
        before = await page.say('how do I get Taunton access?');
        answer = await page.waitForBot(before, 'Taunton');
        text = (await answer.textContent()) ?? '';
        expect(text).toContain('At 02:00 on Thu 3 Dec (GMT): emergency access applies');
        expect(text).toContain('01823 343317');
        await expect(page.page.locator('#messages > li.from-user').last().textContent()).resolves.toContain(
          'sent as Thu 3 Dec 2026 02:00 GMT (pretend)',
        );
        await page.shot('pretend-2am');

        // And 14:00 the same day: a permanent account, with emergency accounts from 17:00.
        await page.pretend('2026-12-03T14:00');
        before = await page.say('how do I get Taunton access?');
        answer = await page.waitForBot(before, 'Taunton');
        text = (await answer.textContent()) ?? '';
        expect(text).toContain('At 14:00 on Thu 3 Dec (GMT): use a permanent account');
        expect(text).toContain('01823 287728');
        await page.shot('pretend-2pm');

        // UK summer time, and the nights the clocks change, are read as UK wall-clock time.
        await page.pretend('2026-07-15T02:00');
        await expect(status.textContent()).resolves.toContain('Wed 15 Jul 2026 02:00 BST (2026-07-15T01:00:00.000Z)');
        await page.pretend('2026-03-29T01:30');
        await expect(status.textContent()).resolves.toMatch(/02:30 BST \(2026-03-29T01:30:00\.000Z\).*skip/);
        await page.pretend('2026-10-25T01:30');
        await expect(status.textContent()).resolves.toMatch(/01:30 BST \(2026-10-25T00:30:00\.000Z\).*twice/);
        await page.page.getByRole('button', { name: 'Use the real time' }).click();
        await expect(status.textContent()).resolves.toContain('real time');
      });
    },
    journeyTimeoutMs,
  );

  it(
    'walks the decision tree by clicking to each route',
    async () => {
      const page = await open('tree');
      await page.run(async () => {
        // Out of hours (Thursday 02:00), so the urgent IEP route is the out-of-hours one.
        await page.pretend('2026-12-03T02:00');
        let before = await page.press('Find the right way to get images');
        const where = await page.waitForBot(before, 'Which Trust holds the images?');
        await page.shot('where');

        // Guide A: an Insignia site, patient registered at both.
        before = await page.press(/Exeter/, where);
        const registered = await page.waitForBot(before, 'Peer to peer (Guide A)?');
        before = await page.press('Yes', registered);
        const routeA = await page.waitForBot(before, 'Pull the images by peer to peer (Guide A)');
        await expect(routeA.textContent()).resolves.toContain('Imaging will remain available locally for 30 days');
        await expect(routeA.getByRole('button', { name: "Find this patient's images now" }).count()).resolves.toBe(1);
        await page.shot('guide-a');

        // Guide C (North Bristol), and from there Guide B with an NBT account.
        before = await page.press(/^North Bristol/, where);
        const routeC = await page.waitForBot(before, 'Connect & Share (Guide C)');
        await expect(routeC.textContent()).resolves.toContain('All medical staff have access to North Bristol imaging via Connect & Share');
        await page.shot('guide-c');
        before = await page.press('Use an NBT PACS account (Guide B)', routeC);
        const nbt = await page.waitForBot(before, 'North Bristol web viewer (Guide B)');
        await expect(nbt.textContent()).resolves.toContain('0117 340 2020');
        await page.shot('guide-b-north-bristol');

        // Guide B, Bath.
        before = await page.press(/^RUH Bath/, where);
        const bath = await page.waitForBot(before, 'RUH Bath web viewer (Guide B)');
        await expect(bath.textContent()).resolves.toContain('01225 825444');
        await page.shot('guide-b-bath');

        // Guide B, Taunton & Yeovil at 02:00: the emergency route.
        before = await page.press(/^Taunton & Yeovil/, where);
        const taunton = await page.waitForBot(before, 'Taunton & Yeovil web viewer (Guide B)');
        const tauntonText = (await taunton.textContent()) ?? '';
        expect(tauntonText).toContain('At 02:00 on Thu 3 Dec (GMT): emergency access applies');
        expect(tauntonText).toContain('01823 343317');
        await page.shot('guide-b-taunton');
        // Action.OpenUrl opens the link in a new tab.
        const [tab] = await Promise.all([
          browser!.context.waitForEvent('page'),
          page.press('Open: Taunton & Yeovil web browser link', taunton),
        ]);
        await tab.waitForLoadState();
        expect(tab.url()).toBe('https://rbapacs.tst.nhs.uk/Portal');
        await tab.close();
        before = await page.press('Back', taunton);
        await page.waitForBot(before, 'Which Trust holds the images?');

        // Guide D: anywhere else, urgent (out of hours) and not urgent.
        before = await page.press('Anywhere else in the UK', where);
        const urgency = await page.waitForBot(before, /urgent/i);
        before = await page.press('Urgent', urgency);
        const urgent = await page.waitForBot(before, 'Urgent images via IEP (Guide D)');
        await expect(urgent.textContent()).resolves.toContain('IEP Receipts (Temporary)');
        await page.shot('guide-d-urgent');
        before = await page.press('Not urgent', urgency);
        const routine = await page.waitForBot(before, 'Non-urgent images via IEP (Guide D)');
        await expect(routine.textContent()).resolves.toContain('crishelp@uhbristol.nhs.uk');
        await page.shot('guide-d-not-urgent');
      });
    },
    journeyTimeoutMs,
  );

  it(
    'finds a demo patient, retrieves a study after confirming, and shows the completion notification',
    async () => {
      const page = await open('retrieval');
      await page.run(async () => {
        let before = await page.say('find images for 999 000 0018');
        const searching = await page.waitForBot(before, 'Searching UH Bristol PACS');
        // The bot's own typing indicator shows while the sites are searched (the demo's Plymouth is slow)...
        await page.page.locator('#typing[data-from="bot"]').waitFor({ state: 'visible', timeout: 10_000 });
        await page.shot('searching');
        const studies = await page.waitForBot(before, 'At other sites');
        // ...and the "Searching..." message was updated in place as the sites answered, to the last answer.
        await expect(searching.textContent()).resolves.toMatch(/Searched UH Bristol PACS and 7 peer-to-peer sites/);
        await expect(searching.textContent()).resolves.toMatch(/Cornwall: unreachable/);
        await expect(searching.locator('.updated-note').count()).resolves.toBe(1);
        await expect(page.page.locator('#typing').isHidden()).resolves.toBe(true);
        const studiesText = (await studies.textContent()) ?? '';
        expect(studiesText).toContain('DEMO-PATIENT, Alice');
        expect(studiesText).toContain('Cornwall');
        await page.shot('studies');

        await studies.getByRole('checkbox', { name: /CT Head/ }).check();
        await page.shot('study-ticked');
        before = await page.press('Retrieve selected', studies);
        const confirm = await page.waitForBot(before, /Confirm retrieval/);
        await expect(confirm.textContent()).resolves.toContain('Kept locally for 30 days');
        await page.shot('confirm');

        before = await page.press(/^Confirm retrieval/, confirm);
        await page.waitForBot(before, 'Started: CT Head');
        // The confirmation card was replaced in place: it cannot be confirmed twice.
        await expect(confirm.textContent()).resolves.toContain('Retrieval confirmed');
        await expect(confirm.getByRole('button', { name: /^Confirm retrieval/ }).count()).resolves.toBe(0);
        await expect(confirm.locator('.updated-note').count()).resolves.toBe(1);
        await page.shot('started');

        // The app's poll timer (every second) notices the finished download and notifies, proactively.
        const done = await page.waitForBot(before, 'is now on UH Bristol PACS', 30_000);
        await expect(done.textContent()).resolves.toMatch(
          /CT Head \(DEMO\) from Exeter \(5 Nov 2023\), 5 images, is now on UH Bristol PACS, kept until/,
        );
        // The NHS number is in the card below the text, not in the text a phone's notification shows.
        await expect(done.textContent()).resolves.toMatch(/NHS number\s*999 000 0018/);
        await confirm.filter({ hasText: 'stored on UH Bristol PACS' }).waitFor();
        await page.shot('notified');

        before = await page.say('my retrievals');
        const mine = await page.waitForBot(before, 'CT Head');
        await mine.scrollIntoViewIfNeeded();
        await page.shot('my-retrievals');
      });
    },
    journeyTimeoutMs,
  );

  it('renders bot text safely: HTML is escaped, only http(s), mailto and tel links', async () => {
    const page = await open('markdown');
    const html = await page.page.evaluate(() => {
      const internals = (globalThis as unknown as { devChatInternals: { markdownToHtml(text: string): string } }).devChatInternals;
      return [
        '<img src=x onerror="alert(1)"> **bold** _it_',
        '[guide](https://example.nhs.uk/a?b=1&c="2") [bad](javascript:alert(1)) https://example.nhs.uk/x',
        'line one\nline two',
      ].map((text) => internals.markdownToHtml(text));
    });
    expect(html[0]).toBe('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <strong>bold</strong> <em>it</em>');
    expect(html[1]).toContain('<a href="https://example.nhs.uk/a?b=1&amp;c=%222%22" target="_blank" rel="noopener noreferrer">guide</a>');
    expect(html[1]).not.toContain('href="javascript');
    expect(html[1]).toContain('[bad](javascript:alert(1))');
    expect(html[1]).toContain('<a href="https://example.nhs.uk/x"');
    expect(html[2]).toBe('line one<br>line two');
  });
});
