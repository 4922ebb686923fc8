import type { FastifyPluginAsync } from 'fastify';
import { KassaError, TeamStore, findUserByEmail, isKassaError } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { hashInviteToken } from '../auth/invitations';
import type { LoginService } from '../auth/login.service';
import { hashPassword } from '../auth/password';
import { fieldErrors, renderPage } from './page';

const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } } } as const;
const publicRoute = { permission: 'public' } as const;
const registerBody = {
  type: 'object', required: ['password'],
  properties: {
    _csrf: { type: 'string' }, name: { type: 'string', maxLength: 200 },
    password: { type: 'string', minLength: 10, maxLength: 1024 },
  },
  additionalProperties: false,
} as const;

/**
 * The invitation link (/control/invite/<token>): outside the signed-in panel, since the invitee
 * may have no login yet. A signed-in user accepts it into their account; anyone else logs in
 * first or creates a login for the invited address. The link works once and until it expires;
 * a used, expired, withdrawn or unknown one answers INVITE_INVALID (404) alike.
 */
export const inviteRoutes: FastifyPluginAsync<{ deps: AppDeps; login: LoginService }> = async (app, { deps, login }) => {
  const store = new TeamStore(deps.dataSource);
  const open = async (token: string) => {
    const invite = await store.openInvite(hashInviteToken(token), deps.clock.now());
    if (!invite) throw new KassaError('INVITE_INVALID');
    return invite;
  };

  app.get<{ Params: { token: string } }>('/control/invite/:token', { config: publicRoute, schema: { params: tokenParams } }, async (req, reply) => {
    const invite = await open(req.params.token);
    const user = req.session.userId ? await login.load(req.session.userId) : null;
    const hasLogin = !user && (await findUserByEmail(deps.dataSource, invite.email)) !== null;
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    return renderPage(req, reply, 'invite', { title: `Join ${invite.organizerName}`, invite, signedIn: user, hasLogin, token: req.params.token, errors: {} });
  });

  app.post<{ Params: { token: string } }>('/control/invite/:token/accept', {
    config: publicRoute, schema: { params: tokenParams, body: { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } },
  }, async (req, reply) => {
    const user = req.session.userId ? await login.load(req.session.userId) : null;
    if (!user) throw new KassaError('AUTH_REQUIRED');
    const accepted = await store.acceptInvite(hashInviteToken(req.params.token), user.id, deps.clock.now());
    if (!accepted) throw new KassaError('INVITE_INVALID');
    req.session.organizerId = accepted.organizerId;
    await login.remember({ id: user.id, organizerId: accepted.organizerId });
    req.session.flash = { kind: 'success', message: 'Invitation accepted: welcome to the team.' };
    return reply.redirect('/control', 303);
  });

  app.post<{ Params: { token: string }; Body: { name?: string; password: string } }>('/control/invite/:token/register', {
    config: publicRoute, schema: { params: tokenParams, body: registerBody }, attachValidation: true,
  }, async (req, reply) => {
    const invite = await open(req.params.token);
    if (req.validationError) {
      reply.code(400);
      return renderPage(req, reply, 'invite', { title: `Join ${invite.organizerName}`, invite, signedIn: null, hasLogin: false, token: req.params.token, errors: fieldErrors(req.validationError) });
    }
    const passwordHash = await hashPassword(req.body.password, { logN: deps.config.passwordLogN });
    let userId: string;
    try {
      userId = (await store.registerAndAccept(hashInviteToken(req.params.token), { email: invite.email, name: req.body.name?.trim() ?? '', passwordHash }, deps.clock.now())).userId;
    } catch (err) {
      if (!isKassaError(err, 'VALIDATION_FAILED')) throw err;
      reply.code(400);
      return renderPage(req, reply, 'invite', { title: `Join ${invite.organizerName}`, invite, signedIn: null, hasLogin: true, token: req.params.token, errors: { form: err.message } });
    }
    await req.session.regenerate();
    req.session.userId = userId;
    req.session.organizerId = invite.organizerId;
    await login.remember({ id: userId, organizerId: invite.organizerId });
    reply.generateCsrf();
    req.session.flash = { kind: 'success', message: 'Your login is ready: welcome to the team.' };
    return reply.redirect('/control', 303);
  });
};
