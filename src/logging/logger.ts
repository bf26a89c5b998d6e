/**
 * Structured JSON logging, one line per event. Callers pass only operational fields:
 * never message text, names, NHS numbers or dates of birth.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogLevel } from '../config/config';

/** The request being handled, for every log line written while it is (across awaits). */
const currentRequest = new AsyncLocalStorage<string>();

/** Runs `work` with `requestId` attached to every log line it (and what it awaits) writes. */
export function withRequest<T>(requestId: string, work: () => Promise<T>): Promise<T> {
  return currentRequest.run(requestId, work);
}

/** Fields attached to a log line; values must be free of patient identifiers. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where the bot writes its log lines. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Creates a logger writing JSON lines to `sink` (stdout by default). */
export function createLogger(
  level: LogLevel,
  sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  clock: () => Date = () => new Date(),
): Logger {
  const write = (lineLevel: LogLevel, event: string, fields?: LogFields): void => {
    if (rank[lineLevel] < rank[level]) return;
    const requestId = currentRequest.getStore();
    sink(
      JSON.stringify({
        time: clock().toISOString(),
        level: lineLevel,
        event,
        ...(requestId === undefined ? {} : { requestId }),
        ...fields,
      }),
    );
  };
  return {
    debug: (event, fields) => write('debug', event, fields),
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}

/** A logger that keeps its lines in memory, for tests that inspect what was logged. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger(
    level,
    (line) => lines.push(line),
    () => new Date(0),
  );
  return Object.assign(logger, { lines });
}
