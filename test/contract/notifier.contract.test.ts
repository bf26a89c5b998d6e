/**
 * The NotifierPort contract against the fake notifier (used by the tests) and the Teams notifier
 * (a real CloudAdapter in development mode, with nock playing the Bot Connector service).
 */
import type { Activity } from 'botbuilder';
import nock from 'nock';
import { FakeNotifier } from '../support/fakes/fake-notifier';
import { createTeamsNotifier } from '../../src/adapters/notifier/teams-notifier';
import { parseConfig } from '../../src/config/config';
import { createMemoryLogger } from '../../src/logging/logger';
import type { Reply } from '../../src/ports/notifier-port';
import { createAdapter } from '../../src/teams/http-server';
import { serviceUrl } from '../support/bot-harness';
import { notifierContract } from './notifier-contract';

const reference = {
  serviceUrl,
  channelId: 'msteams',
  conversation: { id: 'a:contract-chat', conversationType: 'personal', isGroup: false, name: '', tenantId: 'tenant-1' },
  bot: { id: '28:bot', name: 'Image Sharing' },
  user: { id: '29:user-1', name: 'Test Clinician' },
};

notifierContract('fake', () => {
  const maxAttempts = 3;
  const notifier = new FakeNotifier({ maxAttempts });
  return Promise.resolve({
    notifier,
    reference,
    maxAttempts,
    failNext: (count, kind) =>
      notifier.failNext(
        count,
        kind === 'transient'
          ? { kind: 'retry', afterMs: 1000, reason: 'service-unavailable' }
          : { kind: 'permanent', reason: 'blocked-by-user' },
      ),
    requests: () => notifier.requests,
    shown: (id) => notifier.message(id),
    answered: (id) => notifier.answered(id),
    typings: () => [...notifier.typings.values()].reduce((a, b) => a + b, 0),
    close: () => Promise.resolve(),
  });
});

/** What the pretend connector shows for a posted or updated activity. */
function asShown(activity: Partial<Activity>): Reply {
  const card = activity.attachments?.[0];
  return {
    ...(activity.text ? { text: activity.text } : {}),
    ...(card ? { card: { contentType: card.contentType, content: card.content as unknown } } : {}),
    // Teams reads a feed alert request from channelData.notification.alert.
    ...((activity.channelData as { notification?: { alert?: unknown } } | undefined)?.notification?.alert === true ? { alert: true } : {}),
  };
}

notifierContract('teams', () => {
  const maxAttempts = 3;
  const logger = createMemoryLogger();
  const adapter = createAdapter(parseConfig({}), logger);
  const notifier = createTeamsNotifier({
    adapter,
    appId: '',
    logger,
    maxAttempts,
    random: () => 0.5,
    sleep: () => Promise.resolve(),
    now: () => 0,
  });

  // A pretend Bot Connector: one conversation, its messages, and failures queued by the contract.
  const conversationPath = `/v3/conversations/${encodeURIComponent(reference.conversation.id)}/activities`;
  const shown = new Map<string, Reply>();
  const answers = new Map<string, string | null>();
  let typings = 0;
  const planned: number[] = [];
  let requests = 0;
  let nextId = 1;
  const failure = (): [number, unknown] | null => {
    const status = planned.shift();
    if (status === undefined) return null;
    const code = status === 403 ? 'ConversationBlockedByUser' : 'ServiceUnavailable';
    return [status, { error: { code, message: 'planned failure' } }];
  };

  nock.disableNetConnect();
  const connector = nock(serviceUrl.replace(/\/$/, ''));
  // A new message is POSTed to the conversation, a reply to .../activities/{replyToId} (as botbuilder's connector does).
  connector
    .persist()
    .post(new RegExp(`^${conversationPath}(/[^/]+)?$`))
    .reply((uri, body) => {
      requests += 1;
      const failed = failure();
      if (failed) return failed;
      const activity = body as Partial<Activity>;
      // A typing indicator is shown, not kept: it has no id to answer or update.
      if (activity.type === 'typing') {
        typings += 1;
        return [200, {}];
      }
      const id = `1:${nextId++}`;
      const inPath = uri.length > conversationPath.length ? decodeURIComponent(uri.split('/').pop() ?? '') : null;
      // The path and the activity must agree on what is answered.
      if (inPath !== (activity.replyToId ?? null)) return [400, { error: { code: 'BadArgument', message: 'replyToId mismatch' } }];
      shown.set(id, asShown(activity));
      answers.set(id, inPath);
      return [200, { id }];
    });
  connector
    .persist()
    .put(new RegExp(`^${conversationPath}/[^/]+$`))
    .reply((uri, body) => {
      requests += 1;
      const failed = failure();
      if (failed) return failed;
      const id = decodeURIComponent(uri.split('/').pop() ?? '');
      if (!shown.has(id)) return [404, { error: { code: 'ActivityNotFoundInConversation', message: 'Unknown activity' } }];
      shown.set(id, asShown(body as Partial<Activity>));
      return [200, { id }];
    });

  return Promise.resolve({
    notifier,
    reference,
    maxAttempts,
    failNext: (count, kind) => {
      for (let i = 0; i < count; i += 1) planned.push(kind === 'transient' ? 503 : 403);
    },
    requests: () => requests,
    shown: (id) => shown.get(id),
    answered: (id) => answers.get(id),
    typings: () => typings,
    close: () => {
      // The adapter's onTurnError would have logged (and apologised in the chat) had an error escaped.
      expect(logger.lines.filter((line) => line.includes('"turn-error'))).toEqual([]);
      nock.cleanAll();
      nock.enableNetConnect();
      return Promise.resolve();
    },
  });
});

afterAll(() => {
  // Later test files in this Jest worker get an unpatched http module.
  nock.restore();
});
