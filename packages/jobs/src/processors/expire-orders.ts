import type { JobsContext } from '../context';
import { PermanentJobError } from '../job-errors';

/**
 * Every minute: pending orders past their deadline become expired. The rules (grace for late
 * payments, quota release) live in core's order service; this job only brings the clock.
 */
export function expireOrdersProcessor(ctx: JobsContext) {
  return async (): Promise<unknown> => {
    if (!ctx.services) throw new PermanentJobError('expire-orders needs the core services, and the worker was started without them');
    return ctx.services.orders.expireOrders(ctx.clock.now());
  };
}
