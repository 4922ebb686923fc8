import type { JobsLogger } from './context';

/**
 * Stops gracefully on SIGTERM/SIGINT: `stop` lets the jobs in flight finish (none is lost: jobs
 * not started stay queued, and a job cut off by a second signal or a kill is picked up again
 * once its lock expires). A second signal exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: JobsLogger, exit: (code: number) => void = (c) => process.exit(c)): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting without waiting for jobs in flight', { signal });
      exit(1);
      return;
    }
    stopping = true;
    logger.info('stopping: waiting for jobs in flight', { signal });
    stop().then(
      () => exit(0),
      (err: unknown) => {
        logger.error('stop failed', { error: err instanceof Error ? err.message : String(err) });
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
