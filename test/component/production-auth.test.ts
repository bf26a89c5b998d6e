/**
 * Production mode, through the real HTTP endpoint and botbuilder's real token validation: a request
 * without a valid Bot Framework token gets 401 (missing, garbage, forged, wrong audience, expired,
 * wrong service URL), never 200 or 500 and never a turn; when the token issuer's metadata cannot be
 * fetched the bot fails closed with 503 and logs why, and recovers when the issuer is back. A valid
 * token gets its turn. Only the Microsoft endpoints (login.botframework.com, the Bot Connector) are
 * stood in for by nock; token lifetimes are fixed dates far from any real clock.
 */
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import nock from 'nock';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { StorePort } from '../../src/ports/store-port';
import { BotHarness, serviceUrl } from '../support/bot-harness';
import { london } from '../support/instants';
import { safeProduction } from '../support/production-env';

const appId = '11111111-1111-1111-1111-111111111111';
const production = { ...safeProduction, MicrosoftAppId: appId };
const issuerHost = 'https://login.botframework.com';
const asked = london('2026-12-02T02:00');

function keyPair(): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey: createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })), jwk: publicKey.export({ format: 'jwk' }) };
}

const trusted = keyPair();
const stranger = keyPair();

/** A signed RS256 JWT; lifetimes are fixed epochs (2020 / 2100), so no clock is read. */
function token(key: KeyObject, kid: string, overrides: Record<string, unknown> = {}): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = {
    iss: 'https://api.botframework.com',
    aud: appId,
    serviceurl: serviceUrl,
    nbf: 1577836800,
    exp: 4102444800,
    ...overrides,
  };
  const body = `${part({ alg: 'RS256', typ: 'JWT', kid })}.${part(claims)}`;
  return `${body}.${sign('RSA-SHA256', Buffer.from(body), key).toString('base64url')}`;
}

function issuerUp(): void {
  nock(issuerHost)
    .persist()
    .get('/v1/.well-known/openidconfiguration')
    .reply(200, { issuer: 'https://api.botframework.com', jwks_uri: `${issuerHost}/v1/.well-known/keys` });
  nock(issuerHost)
    .persist()
    .get('/v1/.well-known/keys')
    .reply(200, { keys: [{ ...trusted.jwk, kid: 'trusted-key', use: 'sig', endorsements: ['msteams'] }] });
}

describe('production mode authentication', () => {
  let bot: BotHarness;
  let store: StorePort;

  beforeAll(async () => {
    store = createMemoryStore();
    bot = await new BotHarness().start(production, () => asked, { store });
  });
  afterAll(async () => {
    await bot.stop();
    nock.cleanAll();
  });

  function activity(extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
      type: 'message',
      id: `a-${Math.random().toString(36).slice(2)}`,
      timestamp: asked.toISOString(),
      channelId: 'msteams',
      serviceUrl,
      from: { id: '29:user-1', name: 'Test Clinician', aadObjectId: '00000000-0000-0000-0000-000000000001' },
      recipient: { id: `28:${appId}`, name: 'Image Sharing' },
      conversation: { id: 'a:personal-chat', conversationType: 'personal', tenantId: 'tenant-1' },
      text: 'how do I get Taunton access at 2am?',
      ...extra,
    });
  }

  async function post(authorization: string | null, body = activity()): Promise<{ status: number; text: string }> {
    const res = await fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  const logged = (event: string): Array<Record<string, unknown>> =>
    bot.logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);

  it('fails closed with 503 and a logged reason while the issuer metadata cannot be fetched', async () => {
    nock(issuerHost).get('/v1/.well-known/openidconfiguration').reply(500, 'down');
    const down = await post(`Bearer ${token(trusted.privateKey, 'trusted-key')}`);
    expect(down.status).toBe(503);
    // No answer at all: the issuer cannot be reached (nock refuses the connection).
    expect((await post(`Bearer ${token(trusted.privateKey, 'trusted-key')}`)).status).toBe(503);
    expect(logged('authentication-unavailable').length).toBe(2);
    expect(logged('authentication-unavailable')[0]).toMatchObject({ status: 503, reason: expect.stringContaining('openID config') });
    expect(bot.sentActivities).toHaveLength(0);
  });

  it.each([
    ['no Authorization header', () => null],
    ['a header that is not a bearer token', () => 'Basic dXNlcjpwYXNz'],
    ['a bearer token that is not a JWT', () => 'Bearer not-a-jwt'],
    ['a token signed by a key the issuer does not publish', () => `Bearer ${token(stranger.privateKey, 'trusted-key')}`],
    ['a token naming a key the issuer does not publish', () => `Bearer ${token(stranger.privateKey, 'other-key')}`],
    [
      'a token for another bot',
      () => `Bearer ${token(trusted.privateKey, 'trusted-key', { aud: '99999999-9999-9999-9999-999999999999' })}`,
    ],
    ['an expired token', () => `Bearer ${token(trusted.privateKey, 'trusted-key', { exp: 1609459200 })}`],
    ['a token from another issuer', () => `Bearer ${token(trusted.privateKey, 'trusted-key', { iss: 'https://evil.example' })}`],
    [
      'a token for another service URL',
      () => `Bearer ${token(trusted.privateKey, 'trusted-key', { serviceurl: 'https://evil.example/' })}`,
    ],
  ])('answers 401 to %s, with no turn', async (_case, header) => {
    issuerUp();
    const before = bot.sentActivities.length;
    const result = await post(header());
    expect(result.status).toBe(401);
    expect(result.text).not.toContain('Taunton');
    await bot.application.idle();
    expect(bot.sentActivities.length).toBe(before);
    expect(logged('request-unauthenticated').at(-1)).toMatchObject({ status: 401 });
  });

  it('gives a correctly signed request its turn once the issuer is reachable again', async () => {
    issuerUp();
    // A typing activity needs no reply, so no outbound token is needed to prove the inbound one passed.
    const typing = await post(`Bearer ${token(trusted.privateKey, 'trusted-key')}`, activity({ type: 'typing', text: undefined }));
    expect(typing.status).toBe(200);
    // The same activity with a forged token is refused: the 200 above is the token's doing.
    const forged = await post(`Bearer ${token(stranger.privateKey, 'trusted-key')}`, activity({ type: 'typing', text: undefined }));
    expect(forged.status).toBe(401);
  });

  it('logs no token, and tags every line of a request with its request id', async () => {
    issuerUp();
    const res = await fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
      body: activity(),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('req-42');
    expect(logged('request-unauthenticated').at(-1)).toMatchObject({ requestId: 'req-42' });
    const odd = await fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'has spaces & <tags>' },
      body: activity(),
    });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(bot.logger.lines.join('\n')).not.toContain('eyJ');
  });
});
