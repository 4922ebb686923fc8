import type { JobsContext } from '../context';
import { PermanentJobError } from '../job-errors';

/**
 * Instalments per pass; a run that claimed a full batch goes on until it claims less. Each pass
 * claims in small chunks as its charges go out (core's charge run), so a large pass costs no
 * long leases, and fewer passes mean fewer moments with nothing in flight.
 */
const batch = 1000;
/** A scheduled run stops after this many passes and leaves the rest to the next one. */
const maxPasses = 20;

/**
 * Every 15 minutes: charges the payment plans' due instalments off-session (core's charge run,
 * docs/payment-plans.md). Claims are leases with SKIP LOCKED, so two workers running this at once
 * split the work; a worker killed mid-run leaves leases that run out, and the next run charges
 * those again with the same idempotency keys.
 */
export function chargeInstalmentsProcessor(ctx: JobsContext) {
  return async (): Promise<{ claimed: number; passes: number }> => {
    const runs = ctx.services?.chargeRuns;
    if (!runs) throw new PermanentJobError('charge-instalments needs the core services with charge runs, and the worker was started without them');
    let claimed = 0;
    let passes = 0;
    while (passes < maxPasses) {
      passes++;
      const r = await runs.run({ limit: batch });
      claimed += r.claimed;
      if (r.claimed < batch) break;
    }
    return { claimed, passes };
  };
}
