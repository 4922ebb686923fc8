import { isKassaError } from '@kassa/core/host';

/** A refusal of the operator CLI: printed as "error: <message>" on stderr, exit code 1. */
export class CliError extends Error {}

/** The reason of a failure, in one line: the error's own message (KassaError messages are already complete). */
export function reason(err: unknown): string {
  if (isKassaError(err)) return err.message;
  if (err instanceof AggregateError && err.errors.length > 0) return reason(err.errors[0]);
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export interface Progress {
  /** Starts the step `label` (shown next to the bar). */
  step(label: string): void;
  /** Marks the current step done. */
  done(): void;
  finish(): void;
}

/**
 * A progress bar on stderr for work that takes long (migrations). On a terminal it redraws one line
 * `[#####-----] 3/7 label`; otherwise (logs, CI, tests) it prints one line per step, so nothing
 * depends on a terminal.
 */
export function progressBar(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let completed = 0;
  let current = '';
  const width = 24;
  const draw = () => {
    const filled = total === 0 ? width : Math.round((completed / total) * width);
    stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${completed}/${total} ${current}`);
  };
  return {
    step(label) {
      current = label;
      if (stream.isTTY) draw();
      else stream.write(`  [${completed + 1}/${total}] ${label}\n`);
    },
    done() {
      completed += 1;
      if (stream.isTTY) draw();
    },
    finish() {
      if (stream.isTTY && total > 0) stream.write('\n');
    },
  };
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
