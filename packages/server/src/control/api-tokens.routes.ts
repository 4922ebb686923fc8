import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthStore, CatalogStore, KassaError, isEventPermission, permissionColumns, permissionLabels, teamPermissions, type TeamInput, type UserPermissions,
} from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { createApiToken, revokeApiToken } from '../auth/api-token';
import { fieldErrors, idParams, redirectWithFlash, renderPage, requireAdmin, userOf } from './page';
import { teamBody, teamInput, type TeamBody } from './team-form';

const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } as const;
const tokenBody = { ...teamBody, properties: { ...teamBody.properties, name: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' } } } as const;

/**
 * Why the creator may not hand the token these rights, per form field, or {} when they may: a token
 * holds at most what its creator holds (an organizer-level permission, or an event-level one on all
 * events or on each chosen event), so creating a token never widens anyone's reach.
 */
export function tokenScopeProblems(creator: UserPermissions, input: TeamInput): Record<string, string> {
  const errors: Record<string, string> = {};
  if (input.permissions.length === 0) errors.form = 'Choose at least one permission';
  if (!input.allEvents && input.eventIds.length === 0 && input.permissions.some(isEventPermission)) errors.events = 'Choose all events or at least one event';
  for (const p of input.permissions) {
    if (!isEventPermission(p)) {
      if (!creator.organizer.has(p)) errors[permissionColumns[p]] = 'You do not hold this permission yourself';
      continue;
    }
    const held = creator.events[p];
    if (held === 'all') continue;
    if (input.allEvents || input.eventIds.some((id) => !held.has(id))) {
      errors[permissionColumns[p]] = input.allEvents ? 'You hold this permission only on some events: choose them' : 'You do not hold this permission on every chosen event';
    }
  }
  return errors;
}

/**
 * The organizer's API tokens (permission organizer.settings): create one with chosen permissions on
 * all events or chosen ones (pretix's team-bound tokens), list, revoke. The plaintext is shown once.
 */
export const apiTokenRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const ds = deps.dataSource;
  const authStore = new AuthStore(ds);
  const catalog = new CatalogStore(ds);
  const permissions = teamPermissions.map((p) => ({ key: p, field: permissionColumns[p], label: permissionLabels[p] }));
  const fresh: TeamInput = { name: '', allEvents: true, permissions: ['event.orders.view'], eventIds: [] };

  const tokensPage = async (
    req: FastifyRequest, reply: FastifyReply, extra: { created?: { name: string; token: string }; values?: TeamInput; errors?: Record<string, string> } = {},
  ) => {
    const { organizerId } = userOf(req);
    const [tokens, events] = await Promise.all([authStore.listApiTokens(organizerId), catalog.eventNames(organizerId)]);
    return renderPage(req, reply, 'api-tokens', {
      title: 'API tokens', section: 'tokens', tokens, created: extra.created, labels: permissionLabels,
      permissions, events, values: extra.values ?? fresh, errors: extra.errors ?? {},
    });
  };

  app.get('/control/api-tokens', { config: { permission: 'organizer.settings' }, onRequest: async (req) => requireAdmin(req) }, async (req, reply) => tokensPage(req, reply));

  app.post<{ Body: TeamBody }>('/control/api-tokens', {
    config: { permission: 'organizer.settings' }, schema: { body: tokenBody }, attachValidation: true,
    onRequest: async (req) => requireAdmin(req),
  }, async (req, reply) => {
    if (req.validationError) return tokensPage(req, reply.code(400), { values: { ...fresh, name: String(req.body?.name ?? '') }, errors: fieldErrors(req.validationError) });
    const input = teamInput(req.body);
    const user = userOf(req);
    const errors = tokenScopeProblems(user.permissions, input);
    if (Object.keys(errors).length > 0) return tokensPage(req, reply.code(400), { values: input, errors });
    const { token } = await createApiToken(ds, user.organizerId, input.name, input);
    // Shown once, on this response only: only its hash is stored.
    reply.header('cache-control', 'no-store');
    return tokensPage(req, reply, { created: { name: input.name, token } });
  });

  app.post<{ Params: { tokenId: string } }>('/control/api-tokens/:tokenId/revoke', {
    config: { permission: 'organizer.settings' },
    schema: { params: idParams('tokenId'), body: csrfOnly },
    onRequest: async (req) => requireAdmin(req),
  }, async (req, reply) => {
    if (!(await revokeApiToken(ds, userOf(req).organizerId, req.params.tokenId))) throw new KassaError('NOT_FOUND', { entity: 'API token' });
    return redirectWithFlash(req, reply, '/control/api-tokens', 'Token revoked.');
  });
};
