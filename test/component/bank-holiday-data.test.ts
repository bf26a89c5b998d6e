/**
 * The proclaimed bank holidays are data beside the guide (content/bank-holidays.json): a one-off day
 * added there changes the bot's answers after a restart, with no code change; the file is validated
 * at start; and a list that ends within a year of the start gives a warning and shows in /healthz.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bankHolidaysFileFor } from '../../src/adapters/guide-file';
import { BotHarness, cardsOf, textOf } from '../support/bot-harness';
import { guideFile } from '../support/fixtures';
import { london } from '../support/instants';

const shipped = JSON.parse(fs.readFileSync(bankHolidaysFileFor(guideFile), 'utf8')) as {
  listedUntil: string;
  oneOff: Array<{ date: string; why: string }>;
};

describe('bank holidays from the data file', () => {
  let dir: string;
  let bot: BotHarness | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'isa-holidays-'));
    fs.copyFileSync(guideFile, path.join(dir, 'guide.json'));
  });
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const withHolidays = (data: unknown): Record<string, string> => {
    fs.writeFileSync(path.join(dir, 'bank-holidays.json'), JSON.stringify(data));
    return { GUIDE_FILE: path.join(dir, 'guide.json') };
  };

  async function ask(text: string, at: Date): Promise<string> {
    const result = await bot!.say(text, at);
    return [result.replies.map((r) => r.text ?? '').join('\n'), ...cardsOf(result.replies).map(textOf)].join('\n');
  }

  it('reads a newly proclaimed one-off day from the file: that weekday is outside normal working hours', async () => {
    const wednesday = london('2027-06-09T10:00');
    bot = await new BotHarness().start({}, () => wednesday);
    expect(await ask('urgent images from Cardiff now', wednesday)).toContain('normal working hours, so use the request form');
    await bot.stop();

    bot = await new BotHarness().start(
      withHolidays({ ...shipped, oneOff: [...shipped.oneOff, { date: '2027-06-09', why: 'a test proclamation' }] }),
      () => wednesday,
    );
    const answer = await ask('urgent images from Cardiff now', wednesday);
    expect(answer).toContain('a bank holiday, outside normal working hours');
    expect(answer).not.toContain('use the request form');
  });

  it('refuses to start on an invalid file, naming the field', async () => {
    const env = withHolidays({ ...shipped, oneOff: [...shipped.oneOff, { date: '2027-02-30', why: 'no such day' }] });
    await expect(new BotHarness().start(env)).rejects.toThrow(
      `bank holidays field oneOff.${shipped.oneOff.length}.date: is not a calendar date`,
    );
  });

  it('refuses to start without the file beside the guide, naming it', async () => {
    await expect(new BotHarness().start({ GUIDE_FILE: path.join(dir, 'guide.json') })).rejects.toThrow(
      `cannot read bank holidays file ${path.join(dir, 'bank-holidays.json')}`,
    );
  });

  it('warns at start, and says in /healthz, when the list ends within a year', async () => {
    const start = new Date(`${shipped.listedUntil.slice(0, 4)}-01-01T09:00:00Z`);
    bot = await new BotHarness().start({}, () => start);
    const warnings = bot.logger.lines
      .filter((l) => l.includes('"event":"bank-holidays-list-ending"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings).toEqual([
      expect.objectContaining({ level: 'warn', listedUntil: shipped.listedUntil, file: path.join('content', 'bank-holidays.json') }),
    ]);
    expect(await (await fetch(`${bot.url}/healthz`)).json()).toMatchObject({
      bankHolidays: { listedUntil: shipped.listedUntil, endingSoon: true },
    });
  });

  it('does not warn while the list reaches more than a year ahead', async () => {
    const start = new Date(`${Number(shipped.listedUntil.slice(0, 4)) - 1}-12-01T09:00:00Z`);
    bot = await new BotHarness().start({}, () => start);
    expect(bot.logger.lines.filter((l) => l.includes('bank-holidays-list-ending'))).toEqual([]);
    expect(await (await fetch(`${bot.url}/healthz`)).json()).toMatchObject({
      bankHolidays: { listedUntil: shipped.listedUntil, endingSoon: false },
    });
  });
});
