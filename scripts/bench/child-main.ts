/**
 * How a benchmark child process ends: its result (or the error that stopped it) goes to the runner
 * over IPC, then the channel closes so the process can exit by itself.
 */
export function runChild(main: () => Promise<unknown>): void {
  main().then(
    (result) => {
      process.send?.({ event: 'result', result });
      process.disconnect?.();
    },
    (error: unknown) => {
      process.send?.({ event: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}
