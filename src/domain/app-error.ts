/**
 * The base of the bot's own errors. Each carries a `reason` from a closed set: what the code switches
 * over and what the logs record (never the message, which may quote input). The message is for people.
 */
export abstract class AppError<R extends string = string> extends Error {
  constructor(
    readonly reason: R,
    message: string,
  ) {
    super(message);
  }
}

/** The `reason` of an error the bot raised itself, or null for anything else (a library's, a bug's). */
export function reasonOf(error: unknown): string | null {
  // instanceof on a generic class narrows to AppError<any>: read the reason as the string it is.
  return error instanceof AppError ? (error as AppError).reason : null;
}
