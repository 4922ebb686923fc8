import { loadOpenPaymentForMail } from '@kassa/core/host';
import type { JobsContext } from '../context';
import type { RelayedEvent } from '../outbox/event-handler';

/**
 * The text the order's open payment's provider wants in the "order placed, payment pending"
 * email (`paymentPendingMailRender`, pretix's order_pending_mail_render), or null. Called before
 * the email's transaction (a provider may talk to the network). A provider that throws does not
 * stop the email: it is logged and the email goes out without the block.
 */
export async function pendingPaymentMailText(event: RelayedEvent, ctx: JobsContext): Promise<string | null> {
  if (!ctx.providers || !event.orderId) return null;
  const found = await loadOpenPaymentForMail(ctx.dataSource, event.orderId);
  if (!found || !ctx.providers.providers.has(found.payment.provider)) return null;
  try {
    const provider = ctx.providers.providers.get(found.payment.provider);
    const providerCtx = await ctx.providers.providerContext(found.event, provider.identifier);
    const text = provider.paymentPendingMailRender(providerCtx, { order: found.order, payment: found.payment });
    return typeof text === 'string' && text.trim() ? text.trim() : null;
  } catch (err) {
    ctx.logger.error('payment text for the email failed; sent without it', {
      eventId: event.id, orderId: event.orderId, provider: found.payment.provider, error: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
}
