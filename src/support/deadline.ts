/**
 * A deadline for a call that may never answer (a hung socket, a peer that stopped reading): the
 * caller gets an answer in time either way. The late work is not cancelled (the libraries give no
 * handle for that), only no longer waited for; its eventual result or error is ignored.
 */
import { AppError } from '../domain/app-error';

/** An outbound call that did not answer in time. */
export class DeadlineError extends AppError<'timed-out'> {
  override readonly name = 'DeadlineError';
  /** Node's own code for a socket timeout, so classifiers treat it as a transient network failure. */
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super('timed-out', `${what} did not answer within ${ms} ms`);
  }
}

/** `work`, or a DeadlineError once `ms` have passed. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  // A late rejection of `work` must not surface as an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
