/**
 * A local stand-in for the Bot Connector service, run as its own process on 127.0.0.1: it answers
 * the bot's reply POSTs (`/v3/conversations/{id}/activities[/{replyToId}]`) and card updates (PUT)
 * with 200 and an id, as the real service does, and nothing else. For the notification benchmark
 * it can record when each POST arrived (wall-clock ms, comparable across processes on one machine).
 *
 * Control endpoints (bench only): GET /__bench/stats, /__bench/record (clear and start recording),
 * /__bench/posts (the recorded [conversation id, ms] pairs), /__bench/capture (keep the next POST's
 * body) and /__bench/last (that body).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const conversationPath = /^\/v3\/conversations\/([^/?]+)\/activities(?:\/([^/?]+))?\/?(?:\?.*)?$/;

let posts = 0;
let puts = 0;
let recording = false;
let recorded: Array<[string, number]> = [];
let capture = false;
/** When set, only a body containing it is captured (the reply to one check request, not a late one from the load). */
let captureMatch = '';
let last: string | null = null;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function control(path: string, res: http.ServerResponse, query: URLSearchParams): void {
  switch (path) {
    case '/__bench/stats':
      return json(res, 200, { posts, puts, recorded: recorded.length });
    case '/__bench/record':
      recorded = [];
      recording = true;
      return json(res, 200, { recording });
    case '/__bench/posts':
      return json(res, 200, recorded);
    case '/__bench/capture':
      capture = true;
      captureMatch = query.get('match') ?? '';
      last = null;
      return json(res, 200, { capture });
    case '/__bench/last':
      return json(res, 200, { body: last });
    default:
      return json(res, 404, { error: 'unknown control path' });
  }
}

const server = http.createServer((req, res) => {
  const arrived = performance.timeOrigin + performance.now();
  const url = req.url ?? '';
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => {
    if (capture) chunks.push(chunk);
  });
  req.on('end', () => {
    if (url.startsWith('/__bench/')) return control(url.split('?')[0]!, res, new URLSearchParams(url.split('?')[1] ?? ''));
    const match = conversationPath.exec(url);
    if (!match) return json(res, 404, { error: { code: 'NotFound', message: 'not a conversation activity path' } });
    if (req.method === 'POST') {
      posts += 1;
      if (recording) recorded.push([decodeURIComponent(match[1]!), arrived]);
      if (capture) {
        const body = Buffer.concat(chunks).toString('utf8');
        if (body.includes(captureMatch)) {
          last = body;
          capture = false;
        }
      }
      return json(res, 200, { id: `stub-activity-${posts}` });
    }
    if (req.method === 'PUT') {
      puts += 1;
      return json(res, 200, { id: decodeURIComponent(match[2] ?? '') });
    }
    return json(res, 405, { error: { code: 'MethodNotAllowed', message: 'POST or PUT only' } });
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ event: 'listening', port });
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The runner went away: do not outlive it.
process.on('disconnect', stop);
