/**
 * What /api/messages (and the browser chat's endpoints) accept as a body, over real HTTP: JSON only,
 * at most 256 KB, both checked before any parsing. A multipart upload is refused before anything is
 * written to disk; a URL-encoded form (which any web page can post to 127.0.0.1 without asking) is
 * refused and starts no turn.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { maxBodyBytes } from '../../src/teams/http-server';
import { BotHarness } from '../support/bot-harness';
import { london } from '../support/instants';

const asked = london('2026-12-02T02:00');

/** A raw request, so the body can be streamed without a length (chunked) or sent as any type. */
function raw(
  url: string,
  method: string,
  headers: Record<string, string>,
  chunks: readonly Buffer[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer and close before the whole upload is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('request bodies', () => {
  let bot: BotHarness;
  beforeEach(async () => {
    bot = await new BotHarness().start({}, () => asked);
  });
  afterEach(() => bot.stop());

  const activity = JSON.stringify({
    type: 'message',
    id: 'body-1',
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:1/',
    from: { id: '29:user-1' },
    recipient: { id: '28:bot' },
    conversation: { id: 'a:personal-chat', conversationType: 'personal' },
    text: 'help',
  });

  it('refuses a 3 MB multipart upload with 415 and writes no file', async () => {
    const tmpBefore = new Set(fs.readdirSync(os.tmpdir()));
    const boundary = 'x-boundary-123';
    const part = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const end = Buffer.from(`\r\n--${boundary}--\r\n`);
    const result = await raw(`${bot.url}/api/messages`, 'POST', { 'content-type': `multipart/form-data; boundary=${boundary}` }, [
      part,
      Buffer.alloc(3 * 1024 * 1024, 1),
      end,
    ]);
    expect(result.status).toBe(415);
    const added = fs.readdirSync(os.tmpdir()).filter((name) => !tmpBefore.has(name) && name.startsWith('upload_'));
    expect(added).toEqual([]);
    expect(bot.sentActivities).toHaveLength(0);
  });

  it.each([
    ['a URL-encoded form', 'application/x-www-form-urlencoded', 'type=message&text=help&serviceUrl=http%3A%2F%2F127.0.0.1%3A1%2F'],
    ['JSON sent as text/plain (what a page may post without asking)', 'text/plain', activity],
    ['no content type', '', activity],
  ])('refuses %s with 415 and starts no turn', async (_what, type, body) => {
    const result = await raw(`${bot.url}/api/messages`, 'POST', type ? { 'content-type': type } : {}, [Buffer.from(body)]);
    expect(result.status).toBe(415);
    expect(bot.sentActivities).toHaveLength(0);
  });

  it('accepts application/json with a charset, and answers the turn', async () => {
    const result = await bot.post(activity, 'application/json; charset=utf-8');
    expect(result.status).toBe(200);
    expect(result.replies.length).toBeGreaterThan(0);
  });

  it('refuses JSON over the limit with 413: declared up front, or streamed without a length', async () => {
    const big = Buffer.alloc(maxBodyBytes + 1, 0x20);
    expect(
      (await raw(`${bot.url}/api/messages`, 'POST', { 'content-type': 'application/json', 'content-length': String(big.length) }, [big]))
        .status,
    ).toBe(413);
    const chunks = Array.from({ length: 5 }, () => Buffer.alloc(64 * 1024 + 1, 0x20));
    expect(
      (await raw(`${bot.url}/api/messages`, 'POST', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunks)).status,
    ).toBe(413);
    expect(bot.sentActivities).toHaveLength(0);
  });

  it("holds the browser chat's endpoints (development only) to the same rule", async () => {
    const form = await raw(`${bot.url}/chat/api/send`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, [
      Buffer.from('text=help'),
    ]);
    expect(form.status).toBe(415);
    const plain = await raw(`${bot.url}/chat/connector/v3/conversations/a%3Ax/activities`, 'POST', { 'content-type': 'text/plain' }, [
      Buffer.from('{"type":"message"}'),
    ]);
    expect(plain.status).toBe(415);
  });
});
