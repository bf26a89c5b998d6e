/**
 * When a turn fails, the clinician is told once and the log says what failed without any text
 * from the conversation.
 */
import nock from 'nock';
import { CardError, type CardRenderer } from '../../src/cards/card-renderer';
import { parseConfig } from '../../src/config/config';
import { buildKnowledge } from '../../src/domain/questions/answer-question';
import { createMemoryLogger } from '../../src/logging/logger';
import { createAdapter, createServer } from '../../src/teams/http-server';
import { TeamsBot } from '../../src/teams/teams-bot';
import { createTeamsNotifier } from '../../src/adapters/notifier/teams-notifier';
import { realGuide } from '../support/fixtures';
import { london } from '../support/instants';
import { serviceUrl } from '../support/bot-harness';

const brokenCards: CardRenderer = {
  render() {
    throw new CardError('unexpanded', 'card welcome has an unexpanded binding');
  },
};

describe('a turn that fails', () => {
  const logger = createMemoryLogger();
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1' });
  const adapter = createAdapter(config, logger);
  const server = createServer(
    adapter,
    new TeamsBot(
      {
        access: { mode: 'development', allowedTenantIds: [], retrievalAllowedUsers: [] },
        guide: realGuide(),
        knowledge: buildKnowledge(realGuide(), 'Europe/London'),
        cards: brokenCards,
        zone: 'Europe/London',
      },
      null,
      createTeamsNotifier({ adapter, appId: '', logger }),
      logger,
      () => new Date(0),
    ),
    () => ({ version: 'test', guide: { title: 't', version: 'v', reviewDate: '2018-05', reviewOverdue: false } }),
    logger,
  );
  const sent: Array<{ text?: string }> = [];
  let port = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = server.address().port;
    nock.disableNetConnect();
    nock.enableNetConnect(`127.0.0.1:${port}`);
    nock(serviceUrl.replace(/\/$/, ''))
      .persist()
      .post(/\/v3\/conversations\/.+\/activities/)
      .reply(200, (_uri, body) => {
        sent.push(body as { text?: string });
        return { id: 'x' };
      });
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('tells the user once that something went wrong, and logs no message text', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        id: 'a1',
        text: 'help for Jane Example',
        timestamp: london('2026-12-03T02:00').toISOString(),
        channelId: 'msteams',
        serviceUrl,
        from: { id: '29:user' },
        recipient: { id: '28:bot' },
        conversation: { id: 'a:chat', conversationType: 'personal' },
      }),
    });
    expect(res.status).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toContain('Sorry, something went wrong');
    const errors = logger.lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'turn-error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 'error', error: 'CardError', reason: 'unexpanded', activityType: 'message' });
    expect(logger.lines.join('\n')).not.toContain('Jane');
  });
});
