import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  KassaError, TeamStore, createOrganizerWithAdminTeam, findOrganizer, findUserByEmail, globalSettings, isKassaError, listOrganizers, permissionLabels,
  providerNamespace, renameOrganizer, setOrganizerActive,
} from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { inviteToTeam } from '../auth/invitations';
import { fieldErrors, formRefusal, idParams, redirectWithFlash, renderPage, userOf } from './page';
import { settingsErrors, settingsFields, settingsPatch, type SettingsField } from './settings-form';

const operator = { permission: 'operator' } as const;
const providerParam = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,63}$' } as const;
const createBody = {
  type: 'object', required: ['name', 'slug'],
  properties: {
    _csrf: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
    slug: { type: 'string', minLength: 1, maxLength: 64 },
    adminEmail: { anyOf: [{ type: 'string', format: 'email', maxLength: 320 }, { type: 'string', maxLength: 0 }] },
  },
  additionalProperties: false,
} as const;
const renameBody = { type: 'object', required: ['name'], properties: { _csrf: { type: 'string' }, name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } }, additionalProperties: false } as const;
const activeBody = { type: 'object', required: ['active'], properties: { _csrf: { type: 'string' }, active: { type: 'string', enum: ['true', 'false'] } }, additionalProperties: false } as const;
const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } as const;
const inviteBody = { type: 'object', required: ['email'], properties: { _csrf: { type: 'string' }, email: { type: 'string', format: 'email', maxLength: 320 } }, additionalProperties: false } as const;
const settingsBody = {
  type: 'object',
  patternProperties: { '^[A-Za-z_][A-Za-z0-9_]{0,100}$': { anyOf: [{ type: 'string', maxLength: 20000 }, { type: 'array', items: { type: 'string', maxLength: 20000 }, maxItems: 10 }] } },
  additionalProperties: false,
} as const;

type CreateBody = { name: string; slug: string; adminEmail?: string };

/**
 * The instance operator's admin area under /control/admin (route permission 'operator'; for
 * anyone else it does not exist): every organizer (create, rename, deactivate and reactivate),
 * their teams (an invitation into any of them, e.g. the first admin of a new organizer; removing a
 * member, never the organizer's last admin) and
 * the instance-level settings of the payment providers: the defaults every organizer inherits,
 * and the instance-only ones (URLs, hosts: where code is loaded from and requests go), which no
 * organizer can set. KASSA_INSTANCE_SETTINGS, applied at every start, wins for the keys it names.
 */
export const operatorRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const ds = deps.dataSource;
  const teams = new TeamStore(ds);

  const overview = async (req: FastifyRequest, reply: FastifyReply, values: Partial<CreateBody>, errors: Record<string, string>) =>
    renderPage(req, reply, 'admin-organizers', { title: 'Organizers', section: 'admin', organizers: await listOrganizers(ds), values, errors });

  const organizerOf = async (id: string) => {
    const organizer = await findOrganizer(ds, id);
    if (!organizer) throw new KassaError('NOT_FOUND', { entity: 'Organizer' });
    return organizer;
  };

  const organizerPage = async (
    req: FastifyRequest, reply: FastifyReply, organizer: Awaited<ReturnType<typeof organizerOf>>, errors: Record<string, string>, invite?: { email: string; link: string },
  ) => renderPage(req, reply, 'admin-organizer', {
    title: organizer.name, section: 'admin', organizer, teams: await teams.listTeams(organizer.id), labels: permissionLabels, invite, errors,
  });

  app.get('/control/admin', { config: operator }, async (req, reply) => overview(req, reply, {}, {}));

  app.post<{ Body: CreateBody }>('/control/admin/organizers', { config: operator, schema: { body: createBody }, attachValidation: true }, async (req, reply) => {
    const body = (req.body ?? {}) as Partial<CreateBody>;
    if (req.validationError) return overview(req, reply.code(400), body, fieldErrors(req.validationError));
    const adminEmail = body.adminEmail?.trim() || undefined;
    // An address without a login is invited into the admin team instead of being refused.
    const existing = adminEmail ? await findUserByEmail(ds, adminEmail) : null;
    let created;
    try {
      created = await createOrganizerWithAdminTeam(ds, { name: req.body.name, slug: req.body.slug, adminEmail: existing ? adminEmail : undefined });
    } catch (err) {
      const refusal = formRefusal(err);
      return overview(req, reply.code(refusal.status), body, refusal.errors);
    }
    if (adminEmail && !existing) {
      const { link } = await inviteToTeam(deps, {
        organizerId: created.organizer.id, teamId: created.team.id, email: adminEmail, invitedBy: userOf(req).id, teamName: created.team.name, organizerName: created.organizer.name,
      });
      req.session.inviteLink = { email: adminEmail, link };
    }
    return redirectWithFlash(req, reply, `/control/admin/organizers/${created.organizer.id}`, `Organizer ${created.organizer.name} created.`);
  });

  app.get<{ Params: { organizerId: string } }>('/control/admin/organizers/:organizerId', { config: operator, schema: { params: idParams('organizerId') } }, async (req, reply) => {
    const organizer = await organizerOf(req.params.organizerId);
    const invite = req.session.inviteLink;
    if (invite) delete req.session.inviteLink;
    reply.header('cache-control', 'no-store');
    return organizerPage(req, reply, organizer, {}, invite);
  });

  app.post<{ Params: { organizerId: string }; Body: { name: string } }>('/control/admin/organizers/:organizerId/rename', {
    config: operator, schema: { params: idParams('organizerId'), body: renameBody },
  }, async (req, reply) => {
    if (!(await renameOrganizer(ds, req.params.organizerId, req.body.name))) throw new KassaError('NOT_FOUND', { entity: 'Organizer' });
    return redirectWithFlash(req, reply, `/control/admin/organizers/${req.params.organizerId}`, 'Organizer renamed.');
  });

  app.post<{ Params: { organizerId: string }; Body: { active: 'true' | 'false' } }>('/control/admin/organizers/:organizerId/active', {
    config: operator, schema: { params: idParams('organizerId'), body: activeBody },
  }, async (req, reply) => {
    const active = req.body.active === 'true';
    if (!(await setOrganizerActive(ds, req.params.organizerId, active))) throw new KassaError('NOT_FOUND', { entity: 'Organizer' });
    return redirectWithFlash(req, reply, `/control/admin/organizers/${req.params.organizerId}`,
      active ? 'Organizer reactivated.' : 'Organizer deactivated: its shop, control panel and API no longer answer. Nothing was deleted.');
  });

  app.post<{ Params: { organizerId: string; teamId: string }; Body: { email: string } }>('/control/admin/organizers/:organizerId/teams/:teamId/invites', {
    config: operator, schema: { params: idParams('organizerId', 'teamId'), body: inviteBody },
  }, async (req, reply) => {
    const organizer = await organizerOf(req.params.organizerId);
    const team = await teams.team(organizer.id, req.params.teamId);
    if (!team) throw new KassaError('NOT_FOUND', { entity: 'Team' });
    const { link } = await inviteToTeam(deps, { organizerId: organizer.id, teamId: team.id, email: req.body.email, invitedBy: userOf(req).id, teamName: team.name, organizerName: organizer.name });
    req.session.inviteLink = { email: req.body.email.trim(), link };
    return redirectWithFlash(req, reply, `/control/admin/organizers/${organizer.id}`, `Invitation sent to ${req.body.email.trim()}.`);
  });

  app.post<{ Params: { organizerId: string; teamId: string; userId: string } }>('/control/admin/organizers/:organizerId/teams/:teamId/members/:userId/remove', {
    config: operator, schema: { params: idParams('organizerId', 'teamId', 'userId'), body: csrfOnly },
  }, async (req, reply) => {
    const organizer = await organizerOf(req.params.organizerId);
    const team = await teams.team(organizer.id, req.params.teamId);
    const member = team?.members.find((m) => m.id === req.params.userId);
    if (!team || !member) throw new KassaError('NOT_FOUND', { entity: 'Member' });
    try {
      await teams.removeMember(organizer.id, team.id, member.id);
    } catch (err) {
      // The organizer's last admin stays, for the operator too: someone must be able to invite the next one.
      if (!isKassaError(err, 'TEAM_LAST_ADMIN')) throw err;
      return organizerPage(req, reply.code(409), organizer, { [`member-${team.id}-${member.id}`]: err.message });
    }
    return redirectWithFlash(req, reply, `/control/admin/organizers/${organizer.id}`, `${member.email} removed from ${team.name}.`);
  });

  // ——— instance-level defaults of the payment providers ———

  const providerOf = (id: string) => {
    if (!deps.providers.has(id)) throw new KassaError('NOT_FOUND', { entity: 'Payment provider' });
    return deps.providers.get(id);
  };
  const schemaOf = (id: string) => deps.settingsSchemas.get(providerNamespace(id)).definition.schema;
  const instanceLevel = { name: 'Instance defaults (every organizer inherits them)' };

  const form = async (req: FastifyRequest, reply: FastifyReply, providerId: string, errors: Record<string, string>, fields?: SettingsField[]) => {
    const provider = providerOf(providerId);
    const display = await deps.settings.getForDisplay(globalSettings, providerNamespace(providerId));
    return renderPage(req, reply, 'settings-form', {
      title: `${provider.verboseName} instance settings`, section: 'admin', provider, event: instanceLevel, errors,
      fields: fields ?? settingsFields(schemaOf(providerId), display, { instanceLevel: true }), action: `/control/admin/settings/${providerId}`, level: 'global', webhookEndpointAction: null,
    });
  };

  app.get('/control/admin/settings', { config: operator }, async (req, reply) => {
    const rows = await Promise.all(deps.providers.list().filter((p) => !p.isImplicit).map(async (p) => {
      const display = await deps.settings.getForDisplay(globalSettings, providerNamespace(p.identifier));
      return { id: p.identifier, name: p.verboseName, enabled: display.values._enabled === true, source: display.sources._enabled ?? 'default' };
    }));
    return renderPage(req, reply, 'admin-settings', { title: 'Instance settings', section: 'admin', rows });
  });

  app.get<{ Params: { provider: string } }>('/control/admin/settings/:provider', {
    config: operator, schema: { params: { type: 'object', required: ['provider'], properties: { provider: providerParam } } },
  }, async (req, reply) => form(req, reply, req.params.provider, {}));

  app.post<{ Params: { provider: string }; Body: Record<string, string | string[] | undefined> }>('/control/admin/settings/:provider', {
    config: operator, schema: { params: { type: 'object', required: ['provider'], properties: { provider: providerParam } }, body: settingsBody },
  }, async (req, reply) => {
    providerOf(req.params.provider);
    const namespace = providerNamespace(req.params.provider);
    const fields = settingsFields(schemaOf(req.params.provider), await deps.settings.getForDisplay(globalSettings, namespace), { instanceLevel: true });
    try {
      await deps.settings.set(globalSettings, namespace, settingsPatch(fields, req.body ?? {}), { actor: { type: 'user', id: userOf(req).id } });
    } catch (err) {
      if (!isKassaError(err, 'SETTINGS_INVALID')) throw err;
      const typed = fields.map((f) => (f.kind === 'secret' ? f : { ...f, value: f.kind === 'checkbox' ? req.body[f.key] === 'on' : String(req.body[f.key] ?? '') }));
      return form(req, reply.code(400), req.params.provider, settingsErrors(String(err.params.detail ?? err.message), fields), typed);
    }
    return redirectWithFlash(req, reply, '/control/admin/settings', 'Instance settings saved.');
  });
};
