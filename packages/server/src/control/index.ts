import type { FastifyPluginAsync } from 'fastify';
import { KassaError, hasPermission, isKassaError } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { DashboardNoticesSource } from '../infra/plugin-notices';
import { LoginService } from '../auth/login.service';
import { OrganizerScope } from '../auth/scope';
import { authRoutes } from './auth.routes';
import { CatalogService } from './catalog.service';
import { dashboardRoutes } from './dashboard.routes';
import { eventRoutes } from './events.routes';
import { orderRoutes } from './orders.routes';
import { orderActionRoutes } from './order-actions.routes';
import { orderChangeRoutes } from './order-change.routes';
import { settingsRoutes } from './settings.routes';
import { adminRoutes } from './admin.routes';
import { apiTokenRoutes } from './api-tokens.routes';
import { checkPermission } from '../auth/permissions';
import { teamRoutes } from './teams.routes';
import { inviteRoutes } from './invite.routes';
import { operatorRoutes } from './operator.routes';
import { webhookControlRoutes } from './webhooks.routes';
import { planRoutes } from './plan.routes';
import { exportRoutes } from './exports.routes';
import { shredderRoutes } from './shredder.routes';

/**
 * The organizer control panel under /control. Login and logout are public; everything else is
 * registered in a child context whose onRequest hook loads the session's user (per request, so
 * a deactivated user or a removed team membership takes effect at once) and sends anonymous
 * browsers to the login page, then checks the permission the route declares (auth/permissions.ts):
 * every route declares one, and one outside the user's rights answers 404.
 */
export const controlRoutes: FastifyPluginAsync<{ deps: AppDeps; dashboardNotices?: DashboardNoticesSource }> = async (app, { deps, dashboardNotices }) => {
  const login = new LoginService(deps.dataSource, { logN: deps.config.passwordLogN });
  const scope = new OrganizerScope(deps.dataSource);
  await app.register(authRoutes, { login, loginRateLimit: deps.config.rateLimits?.login, loginAccountRateLimit: deps.config.rateLimits?.loginAccount });
  await app.register(inviteRoutes, { deps, login });

  await app.register(async (panel) => {
    panel.addHook('onRequest', async (req, reply) => {
      const user = req.session.userId ? await login.load(req.session.userId, req.session.organizerId) : null;
      if (!user) {
        if (req.method === 'GET') return reply.redirect(`/control/login?next=${encodeURIComponent(req.url)}`, 303);
        throw new KassaError('AUTH_REQUIRED');
      }
      req.kassaUser = user;
      try {
        await checkPermission(req, scope);
      } catch (err) {
        // The landing page shows organizer-wide figures; whoever may not see them starts where they can.
        if (req.method !== 'GET' || req.url !== '/control' || !isKassaError(err, 'NOT_FOUND')) throw err;
        const start = !user.organizerId ? '/control/admin' : hasPermission(user.permissions, 'event.orders.view') ? '/control/orders' : '/control/account';
        return reply.redirect(start, 303);
      }
    });
    await panel.register(dashboardRoutes, { deps, notices: dashboardNotices });
    await panel.register(eventRoutes, { catalog: new CatalogService(deps.dataSource) });
    await panel.register(orderRoutes, { deps, scope });
    await panel.register(orderActionRoutes, { deps, scope });
    await panel.register(orderChangeRoutes, { deps, scope });
    await panel.register(settingsRoutes, { deps, scope });
    await panel.register(adminRoutes, { deps });
    await panel.register(apiTokenRoutes, { deps });
    await panel.register(teamRoutes, { deps });
    await panel.register(operatorRoutes, { deps });
    await panel.register(webhookControlRoutes, { deps });
    await panel.register(planRoutes, { deps, scope });
    await panel.register(exportRoutes, { deps, scope });
    await panel.register(shredderRoutes, { deps, scope });
  });
};
