import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { KassaError } from '@kassa/core/host';
import { loadOrderBySecret } from './order-view';
import { orderParams, type OrderParams } from './schemas';
import type { ShopContext } from './shop-context';
import { orderUrl } from './urls';
import { setBuyerFlash } from '../infra/buyer-session';

/*
 * The buyer's saved cards on their order page (docs/payment-plans.md): listed with brand, last
 * four and expiry, and removable. Reached only through the order's secret link; the form carries
 * the session's CSRF token; a method of another buyer or organizer is not found.
 */

const removeParams = {
  ...orderParams,
  properties: { ...orderParams.properties, methodId: { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } },
  required: [...orderParams.required, 'methodId'],
} as const;
const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } as const;

/** What the order page shows of the buyer's saved cards, with each one's remove URL. */
export async function savedMethodsView(shop: ShopContext, orderId: string, page: string) {
  const methods = await shop.deps.core.storedMethods.listForOrder(orderId);
  return methods.map((m) => ({
    id: m.id, label: `${m.brand ? m.brand[0]!.toUpperCase() + m.brand.slice(1) : 'Card'} ····${m.last4 ?? '????'}`,
    expires: m.expMonth && m.expYear ? `${String(m.expMonth).padStart(2, '0')}/${m.expYear}` : null,
    removeUrl: `${page}methods/${m.id}/remove`,
  }));
}

export const savedMethodsRoutes: FastifyPluginAsync<{ shop: ShopContext }> = async (app, { shop }) => {
  app.post<{ Params: OrderParams & { methodId: string } }>('/:organizer/:event/order/:code/:secret/methods/:methodId/remove', {
    schema: { params: removeParams, body: csrfOnly }, config: { csrf: 'buyer' },
  }, async (req: FastifyRequest<{ Params: OrderParams & { methodId: string } }>, reply) => {
    const where = await shop.catalog.event(req.params.organizer, req.params.event);
    const { order } = await loadOrderBySecret(shop, where.event, req.params.code, req.params.secret);
    try {
      await shop.deps.core.storedMethods.remove(order.id, req.params.methodId, { type: 'buyer' });
    } catch (err) {
      if (!(err instanceof KassaError && err.code === 'NOT_FOUND')) throw err;
      // Removed already (a double click) or not this buyer's: either way it is not on the page.
    }
    setBuyerFlash(req, { kind: 'success', message: 'The card was removed. It will not be charged again.' });
    return reply.redirect(orderUrl(where.organizer, where.event, order), 303);
  });
};
