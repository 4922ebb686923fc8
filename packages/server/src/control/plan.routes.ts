import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KassaError, type Order } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { actionKeyProperty, installActionGuard } from '../infra/action-guard';
import { actorOf, formRefusal, idParams, redirectWithFlash, renderPage, userOf } from './page';

/*
 * Payment plans in the control panel (docs/payment-plans.md): the organizer's actions on an
 * order's plan and instalments, and the event's plan settings. Thin routes: scope (another
 * organizer's order or event is NOT_FOUND), validate, one core call, post/redirect/get. Every
 * action form carries the order page's one-time key, so a double click acts once.
 */

// Every action form carries the order page's one-time key; the permissions are the order actions' and the event settings'.
const guarded = { actionKey: true, permission: 'event.orders.change' } as const;
const eventSettings = { permission: 'event.settings' } as const;
const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' }, ...actionKeyProperty }, additionalProperties: false } as const;
const extendBody = {
  type: 'object', required: ['until'],
  properties: { _csrf: { type: 'string' }, ...actionKeyProperty, until: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } },
  additionalProperties: false,
} as const;
const settingsBody = {
  type: 'object',
  properties: {
    _csrf: { type: 'string' }, enabled: { type: 'string', enum: ['on'] }, instalments: { type: 'string', maxLength: 3 }, intervalDays: { type: 'string', maxLength: 4 },
    fixedDates: { type: 'string', maxLength: 400 }, minTotal: { type: 'string', maxLength: 16 }, graceDays: { type: 'string', maxLength: 3 }, validIfPending: { type: 'string', enum: ['on'] },
    noDeposit: { type: 'string', enum: ['on'] },
  },
  additionalProperties: false,
} as const;

type InstalmentParams = { orderId: string; instalmentId: string };

export const planRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const { core } = deps;
  const back = (order: Order) => `/control/orders/${order.id}`;
  const orderOf = (req: FastifyRequest<{ Params: { orderId: string } }>) => scope.order(userOf(req).organizerId, req.params.orderId);
  installActionGuard(app, core.actionKeys, async (req) => {
    const order = await orderOf(req as FastifyRequest<{ Params: { orderId: string } }>);
    return { organizerId: order.organizerId, orderId: order.id };
  });

  /** Runs one organizer action on an instalment; a refusal goes back to the order page as a message. */
  const act = async (req: FastifyRequest<{ Params: InstalmentParams }>, reply: FastifyReply, done: string, work: (order: Order) => Promise<unknown>) => {
    const order = await orderOf(req);
    try {
      await work(order);
    } catch (err) {
      if (err instanceof KassaError && err.code !== 'NOT_FOUND') return redirectWithFlash(req, reply, back(order), err.message, 'error');
      throw err;
    }
    return redirectWithFlash(req, reply, back(order), done);
  };

  app.post<{ Params: InstalmentParams }>('/control/orders/:orderId/plan/instalments/:instalmentId/charge-now', {
    schema: { params: idParams('orderId', 'instalmentId'), body: csrfOnly }, config: guarded,
  }, (req, reply) => act(req, reply, 'Instalment charged (see its state below).', async (order) => {
    await core.plans.makeDueNow(order.id, req.params.instalmentId, actorOf(req));
    await core.chargeRuns.run({ onlyIds: [req.params.instalmentId] });
  }));

  app.post<{ Params: InstalmentParams; Body: { until: string } }>('/control/orders/:orderId/plan/instalments/:instalmentId/extend', {
    schema: { params: idParams('orderId', 'instalmentId'), body: extendBody }, config: guarded,
  }, (req, reply) => act(req, reply, 'Instalment moved to the new date.', (order) =>
    core.plans.extend(order.id, req.params.instalmentId, new Date(`${req.body.until}T00:00:00Z`), actorOf(req))));

  app.post<{ Params: InstalmentParams }>('/control/orders/:orderId/plan/instalments/:instalmentId/mark-paid', {
    schema: { params: idParams('orderId', 'instalmentId'), body: csrfOnly }, config: guarded,
  }, (req, reply) => act(req, reply, 'Instalment marked as paid.', (order) => core.plans.markPaid(order.id, req.params.instalmentId, actorOf(req))));

  app.post<{ Params: InstalmentParams }>('/control/orders/:orderId/plan/instalments/:instalmentId/give-up', {
    schema: { params: idParams('orderId', 'instalmentId'), body: csrfOnly }, config: guarded,
  }, (req, reply) => act(req, reply, 'Instalment given up; the plan is canceled.', (order) => core.plans.giveUp(order.id, req.params.instalmentId, actorOf(req))));

  app.post<{ Params: { orderId: string } }>('/control/orders/:orderId/plan/cancel', {
    schema: { params: idParams('orderId'), body: csrfOnly }, config: guarded,
  }, async (req, reply) => {
    const order = await orderOf(req);
    try {
      await core.plans.cancelPlan(order.id, actorOf(req));
    } catch (err) {
      if (err instanceof KassaError && err.code !== 'NOT_FOUND') return redirectWithFlash(req, reply, back(order), err.message, 'error');
      throw err;
    }
    return redirectWithFlash(req, reply, back(order), 'Payment plan canceled.');
  });

  // The event's plan settings.
  const showSettings = async (req: FastifyRequest, reply: FastifyReply, eventId: string, values: Record<string, unknown>, errors: Record<string, string>) => {
    const event = await scope.event(userOf(req).organizerId, eventId);
    return renderPage(req, reply, 'plan-settings', { title: `Payment plans · ${event.name}`, section: 'events', event, values, errors });
  };

  app.get<{ Params: { eventId: string } }>('/control/events/:eventId/plans', { config: eventSettings, schema: { params: idParams('eventId') } }, async (req, reply) => {
    const event = await scope.event(userOf(req).organizerId, req.params.eventId);
    const s = await core.plans.settings(event.id);
    return showSettings(req, reply, event.id, { ...s, fixedDates: (s.fixedDates ?? []).join(', ') }, {});
  });

  app.post<{ Params: { eventId: string }; Body: Record<string, string> }>('/control/events/:eventId/plans', {
    config: eventSettings, schema: { params: idParams('eventId'), body: settingsBody },
  }, async (req, reply) => {
    const event = await scope.event(userOf(req).organizerId, req.params.eventId);
    const { _csrf: _ignored, ...values } = req.body ?? {};
    try {
      await core.plans.updateSettings(event.id, values);
    } catch (err) {
      if (err instanceof KassaError && err.code === 'PLAN_SETTINGS_INVALID') {
        return showSettings(req, reply.code(400), event.id, values, { [String(err.params.field)]: err.message });
      }
      const r = formRefusal(err);
      return showSettings(req, reply.code(r.status), event.id, values, r.errors);
    }
    return redirectWithFlash(req, reply, `/control/events/${event.id}/plans`, 'Payment plan settings saved.');
  });
};
