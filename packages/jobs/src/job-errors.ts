import { UnrecoverableError } from 'bullmq';

/**
 * Thrown by a processor when retrying cannot help (the row is gone, the input is invalid): the
 * job fails at once and lands in the failed list with this message. Everything else is treated
 * as transient and retried with backoff.
 */
export class PermanentJobError extends UnrecoverableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'PermanentJobError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

export function isPermanentJobError(err: unknown): boolean {
  return err instanceof UnrecoverableError;
}

/** The message to store for a failure, naming which part of the job failed. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
