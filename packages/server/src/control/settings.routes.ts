import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  KassaError, eventSettings, isKassaError, organizerSettings, providerNamespace, type Event, type SettingsTarget,
} from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { idParams, redirectWithFlash, renderPage, requireAdmin, userOf, uuid } from './page';
import { instanceOnlyKeys, settingsErrors, settingsFields, settingsPatch, type SettingsField } from './settings-form';

const providerParam = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,63}$' } as const;
const settingsBody = {
  type: 'object',
  patternProperties: {
    '^[A-Za-z_][A-Za-z0-9_]{0,100}$': { anyOf: [{ type: 'string', maxLength: 20000 }, { type: 'array', items: { type: 'string', maxLength: 20000 }, maxItems: 10 }] },
  },
  additionalProperties: false,
} as const;

type Body = Record<string, string | string[] | undefined>;

/**
 * Payment provider settings: organizer-level defaults and per-event overrides, each form rendered
 * from the provider's JSON Schema and validated by the settings store (ajv); errors are shown
 * beside their field and secrets are write-only.
 */
export const settingsRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  app.addHook('onRequest', async (req) => requireAdmin(req));
  const providerOf = (id: string) => {
    if (!deps.providers.has(id)) throw new KassaError('NOT_FOUND', { entity: 'Payment provider' });
    return deps.providers.get(id);
  };
  const schemaOf = (id: string) => deps.settingsSchemas.get(providerNamespace(id)).definition.schema;
  // A provider whose plugin offers "create the webhook endpoint at the provider" (Stripe) gets a button for it.
  // The route's `options.keysSetting` names the setting holding the account's keys: where that value
  // comes from the instance (global level), the endpoint is the operator's to create, and the plugin
  // refuses it at this level, so the page explains that instead of offering the button.
  const webhookEndpointAction = (id: string): { url: string; keysSetting: string | null } | null => {
    const found = deps.pluginRoutes?.find((r) => r.plugin === id && r.route.kind === 'control' && r.route.method === 'POST' && r.route.path === '/control/webhook-endpoint');
    if (!found) return null;
    const keysSetting = found.route.options?.keysSetting;
    return { url: `/plugins/${id}/control/webhook-endpoint`, keysSetting: typeof keysSetting === 'string' ? keysSetting : null };
  };

  // A provider whose plugin shows its wallet domains (Stripe) gets a link to that page.
  const walletDomainsPage = (id: string): string | null =>
    deps.pluginRoutes?.some((r) => r.plugin === id && r.route.kind === 'control' && r.route.method === 'GET' && r.route.path === '/control/wallet-domains')
      ? `/plugins/${id}/control/wallet-domains`
      : null;

  const overview = async (req: FastifyRequest, reply: FastifyReply, target: SettingsTarget, event: Event | null) => {
    const rows = await Promise.all(deps.providers.list().filter((p) => !p.isImplicit).map(async (p) => {
      const display = await deps.settings.getForDisplay(target, providerNamespace(p.identifier));
      return { id: p.identifier, name: p.verboseName, enabled: display.values._enabled === true, source: display.sources._enabled ?? 'default' };
    }));
    return renderPage(req, reply, 'settings-providers', { title: 'Payment settings', section: 'settings', rows, event });
  };

  const form = async (req: FastifyRequest, reply: FastifyReply, target: SettingsTarget, event: Event | null, providerId: string, errors: Record<string, string>, fields?: SettingsField[]) => {
    const provider = providerOf(providerId);
    const display = await deps.settings.getForDisplay(target, providerNamespace(providerId));
    const endpoint = webhookEndpointAction(providerId);
    return renderPage(req, reply, 'settings-form', {
      title: `${provider.verboseName} settings`, section: 'settings', provider, event, errors,
      fields: fields ?? settingsFields(schemaOf(providerId), display),
      action: event ? `/control/events/${event.id}/settings/payment/${providerId}` : `/control/settings/payment/${providerId}`,
      level: target.scope,
      webhookEndpointAction: endpoint?.url ?? null,
      webhookEndpointByOperator: endpoint?.keysSetting != null && target.scope !== 'global' && display.sources[endpoint.keysSetting] === 'global',
      walletDomainsPage: walletDomainsPage(providerId),
    });
  };

  const save = async (req: FastifyRequest<{ Body: Body }>, reply: FastifyReply, target: SettingsTarget, event: Event | null, providerId: string) => {
    providerOf(providerId);
    const namespace = providerNamespace(providerId);
    const fields = settingsFields(schemaOf(providerId), await deps.settings.getForDisplay(target, namespace));
    const body = req.body ?? {};
    // The form has no input for an instance-only setting; one posted anyway (or its reset) goes to
    // the store, which refuses it with SETTINGS_INSTANCE_ONLY naming the field, rather than being
    // silently dropped.
    const posted = Object.fromEntries(instanceOnlyKeys(schemaOf(providerId))
      .filter((k) => body[k] !== undefined || body[`reset_${k}`] !== undefined)
      .map((k) => [k, body[k] ?? null]));
    try {
      await deps.settings.set(target, namespace, { ...settingsPatch(fields, body), ...posted }, { actor: { type: 'user', id: userOf(req).id } });
    } catch (err) {
      if (isKassaError(err, 'SETTINGS_INSTANCE_ONLY')) {
        return form(req, reply.code(400), target, event, providerId, { form: err.message });
      }
      if (!isKassaError(err, 'SETTINGS_INVALID')) throw err;
      // Show what was typed (never a secret) with each error beside its field.
      const typed = fields.map((f) => (f.kind === 'secret' ? f : { ...f, value: f.kind === 'checkbox' ? req.body[f.key] === 'on' : String(req.body[f.key] ?? '') }));
      return form(req, reply.code(400), target, event, providerId, settingsErrors(String(err.params.detail ?? err.message), fields), typed);
    }
    const back = event ? `/control/events/${event.id}/settings/payment` : '/control/settings/payment';
    return redirectWithFlash(req, reply, back, 'Settings saved.');
  };

  app.get('/control/settings/payment', { config: { permission: 'organizer.settings' } }, async (req, reply) => overview(req, reply, organizerSettings(userOf(req).organizerId), null));

  app.get<{ Params: { provider: string } }>('/control/settings/payment/:provider', {
    config: { permission: 'organizer.settings' },
    schema: { params: { type: 'object', required: ['provider'], properties: { provider: providerParam } } },
  }, async (req, reply) => form(req, reply, organizerSettings(userOf(req).organizerId), null, req.params.provider, {}));

  app.post<{ Params: { provider: string }; Body: Body }>('/control/settings/payment/:provider', {
    config: { permission: 'organizer.settings' },
    schema: { params: { type: 'object', required: ['provider'], properties: { provider: providerParam } }, body: settingsBody },
  }, async (req, reply) => save(req, reply, organizerSettings(userOf(req).organizerId), null, req.params.provider));

  app.get<{ Params: { eventId: string } }>('/control/events/:eventId/settings/payment', { config: { permission: 'organizer.settings' }, schema: { params: idParams('eventId') } }, async (req, reply) => {
    const event = await scope.event(userOf(req).organizerId, req.params.eventId);
    return overview(req, reply, eventSettings(event), event);
  });

  const eventProviderParams = { type: 'object', required: ['eventId', 'provider'], properties: { eventId: uuid, provider: providerParam } } as const;

  app.get<{ Params: { eventId: string; provider: string } }>('/control/events/:eventId/settings/payment/:provider', {
    config: { permission: 'organizer.settings' },
    schema: { params: eventProviderParams },
  }, async (req, reply) => {
    const event = await scope.event(userOf(req).organizerId, req.params.eventId);
    return form(req, reply, eventSettings(event), event, req.params.provider, {});
  });

  app.post<{ Params: { eventId: string; provider: string }; Body: Body }>('/control/events/:eventId/settings/payment/:provider', {
    config: { permission: 'organizer.settings' },
    schema: { params: eventProviderParams, body: settingsBody },
  }, async (req, reply) => {
    const event = await scope.event(userOf(req).organizerId, req.params.eventId);
    return save(req, reply, eventSettings(event), event, req.params.provider);
  });
};
