import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AuthStore, CatalogStore, KassaError, TeamStore, isKassaError, permissionColumns, permissionLabels, teamPermissions, type TeamInput } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { inviteToTeam } from '../auth/invitations';
import { fieldErrors, idParams, redirectWithFlash, renderPage, userOf, uuid } from './page';
import { teamBody, teamInput, type TeamBody } from './team-form';

const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } as const;
const inviteBody = {
  type: 'object', required: ['email'],
  properties: { _csrf: { type: 'string' }, email: { type: 'string', format: 'email', maxLength: 320 } },
  additionalProperties: false,
} as const;
const teams = { permission: 'organizer.teams' } as const;

declare module 'fastify' {
  interface Session {
    /** The link of the invitation just made, shown once on the team page. */
    inviteLink?: { email: string; link: string };
  }
}

/**
 * The organizer's teams (pretix's Organizer → Teams): create, change and delete teams, their
 * permissions and events, invite by e-mail, remove members; and, for every member, their own
 * teams with "leave". The last person who can change teams can neither be removed nor leave
 * (TEAM_LAST_ADMIN).
 */
export const teamRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const store = new TeamStore(deps.dataSource);
  const catalog = new CatalogStore(deps.dataSource);
  const permissions = teamPermissions.map((p) => ({ key: p, field: permissionColumns[p], label: permissionLabels[p] }));

  const teamOf = async (req: FastifyRequest<{ Params: { teamId: string } }>) => {
    const team = await store.team(userOf(req).organizerId, req.params.teamId);
    if (!team) throw new KassaError('NOT_FOUND', { entity: 'Team' });
    return team;
  };

  const form = async (req: FastifyRequest, reply: FastifyReply, values: TeamInput & { id?: string }, errors: Record<string, string>) =>
    renderPage(req, reply, 'team-form', {
      title: values.id ? `Team ${values.name}` : 'New team', section: 'teams', values, errors, permissions,
      events: await catalog.eventNames(userOf(req).organizerId),
    });

  app.get('/control/teams', { config: teams }, async (req, reply) =>
    renderPage(req, reply, 'teams', { title: 'Teams', section: 'teams', teams: await store.listTeams(userOf(req).organizerId), labels: permissionLabels }));

  app.get('/control/teams/new', { config: teams }, async (req, reply) =>
    form(req, reply, { name: '', allEvents: true, permissions: ['event.orders.view'], eventIds: [] }, {}));

  app.post<{ Body: TeamBody }>('/control/teams', { config: teams, schema: { body: teamBody }, attachValidation: true }, async (req, reply) => {
    if (req.validationError) return form(req, reply.code(400), { name: String(req.body?.name ?? ''), allEvents: true, permissions: [], eventIds: [] }, fieldErrors(req.validationError));
    const id = await store.createTeam(userOf(req).organizerId, teamInput(req.body));
    return redirectWithFlash(req, reply, `/control/teams/${id}`, 'Team created.');
  });

  app.get<{ Params: { teamId: string } }>('/control/teams/:teamId', { config: teams, schema: { params: idParams('teamId') } }, async (req, reply) => {
    const team = await teamOf(req);
    const invite = req.session.inviteLink;
    if (invite) delete req.session.inviteLink;
    reply.header('cache-control', 'no-store');
    return renderPage(req, reply, 'team', {
      title: `Team ${team.name}`, section: 'teams', team, permissions, invite, errors: {},
      events: await catalog.eventNames(userOf(req).organizerId),
    });
  });

  app.post<{ Params: { teamId: string }; Body: TeamBody }>('/control/teams/:teamId', {
    config: teams, schema: { params: idParams('teamId'), body: teamBody }, attachValidation: true,
  }, async (req, reply) => {
    const team = await teamOf(req);
    if (req.validationError) return form(req, reply.code(400), { ...team, name: String(req.body?.name ?? team.name) }, fieldErrors(req.validationError));
    const input = teamInput(req.body);
    try {
      await store.updateTeam(userOf(req).organizerId, team.id, input);
    } catch (err) {
      if (!isKassaError(err, 'TEAM_LAST_ADMIN')) throw err;
      return form(req, reply.code(409), { ...input, id: team.id }, { [permissionColumns['organizer.teams']]: err.message });
    }
    return redirectWithFlash(req, reply, `/control/teams/${team.id}`, 'Team saved.');
  });

  app.post<{ Params: { teamId: string } }>('/control/teams/:teamId/delete', { config: teams, schema: { params: idParams('teamId'), body: csrfOnly } }, async (req, reply) => {
    const team = await teamOf(req);
    // TEAM_LAST_ADMIN (409) goes to the error page with its message.
    await store.deleteTeam(team.organizerId, team.id);
    return redirectWithFlash(req, reply, '/control/teams', `Team ${team.name} deleted.`);
  });

  app.post<{ Params: { teamId: string; userId: string } }>('/control/teams/:teamId/members/:userId/remove', {
    config: teams, schema: { params: idParams('teamId', 'userId'), body: csrfOnly },
  }, async (req, reply) => {
    const team = await teamOf(req);
    const member = team.members.find((m) => m.id === req.params.userId);
    if (!member) throw new KassaError('NOT_FOUND', { entity: 'Member' });
    await store.removeMember(team.organizerId, team.id, member.id);
    return redirectWithFlash(req, reply, `/control/teams/${team.id}`, `${member.email} removed from ${team.name}.`);
  });

  app.post<{ Params: { teamId: string }; Body: { email: string } }>('/control/teams/:teamId/invites', {
    config: teams, schema: { params: idParams('teamId'), body: inviteBody }, attachValidation: true,
  }, async (req, reply) => {
    const team = await teamOf(req);
    const user = userOf(req);
    if (req.validationError) {
      return renderPage(req, reply.code(400), 'team', {
        title: `Team ${team.name}`, section: 'teams', team, permissions, errors: { email: 'must be an e-mail address' }, events: await catalog.eventNames(user.organizerId),
      });
    }
    const { link } = await inviteToTeam(deps, { organizerId: user.organizerId, teamId: team.id, email: req.body.email, invitedBy: user.id, teamName: team.name, organizerName: user.organizerName });
    // Shown once on the next page (where no SMTP is configured, the inviter passes it on).
    req.session.inviteLink = { email: req.body.email.trim(), link };
    return redirectWithFlash(req, reply, `/control/teams/${team.id}`, `Invitation sent to ${req.body.email.trim()}.`);
  });

  app.post<{ Params: { teamId: string; inviteId: string } }>('/control/teams/:teamId/invites/:inviteId/revoke', {
    config: teams, schema: { params: idParams('teamId', 'inviteId'), body: csrfOnly },
  }, async (req, reply) => {
    if (!(await store.revokeInvite(userOf(req).organizerId, req.params.teamId, req.params.inviteId))) throw new KassaError('NOT_FOUND', { entity: 'Invitation' });
    return redirectWithFlash(req, reply, `/control/teams/${req.params.teamId}`, 'Invitation withdrawn.');
  });

  // ——— every member: their own teams ———

  app.get('/control/account', { config: { permission: 'member' } }, async (req, reply) => {
    const user = userOf(req);
    const mine = (await store.listTeams(user.organizerId)).filter((t) => t.members.some((m) => m.id === user.id));
    return renderPage(req, reply, 'account', { title: 'Your teams', section: 'account', teams: mine, labels: permissionLabels, organizers: user.organizers });
  });

  app.post<{ Params: { teamId: string } }>('/control/teams/:teamId/leave', {
    config: { permission: 'member' }, schema: { params: idParams('teamId'), body: csrfOnly },
  }, async (req, reply) => {
    const user = userOf(req);
    if (!(await store.removeMember(user.organizerId, req.params.teamId, user.id))) throw new KassaError('NOT_FOUND', { entity: 'Team' });
    return redirectWithFlash(req, reply, '/control/account', 'You left the team.');
  });

  app.post<{ Body: { organizerId: string } }>('/control/organizer', {
    config: { permission: ['member', 'operator'] },
    schema: { body: { type: 'object', required: ['organizerId'], properties: { _csrf: { type: 'string' }, organizerId: uuid }, additionalProperties: false } },
  }, async (req, reply) => {
    // Switching only to an organizer the user is in; anything else is as absent as any other.
    if (!userOf(req).organizers.some((o) => o.id === req.body.organizerId)) throw new KassaError('NOT_FOUND', { entity: 'Organizer' });
    req.session.organizerId = req.body.organizerId;
    await new AuthStore(deps.dataSource).setLastOrganizer(userOf(req).id, req.body.organizerId);
    return redirectWithFlash(req, reply, '/control', 'Organizer switched.');
  });
};
