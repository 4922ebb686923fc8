import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { KassaError, type DataSource } from '@kassa/core';
import { getStoredEmail, listStoredEmails, type FailedJob } from '@kassa/jobs';
import type { AppDeps } from '../deps';
import { createApiToken, revokeApiToken } from '../auth/api-token';
import type { SessionUser } from '../auth/login.service';
import { idParams, redirectWithFlash, renderPage, requireAdmin, userOf } from './page';

const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } as const;

/**
 * Which failed jobs a user may see and retry: event jobs of their organizer's orders, email jobs of
 * their organizer's emails, and (for admins) the instance-wide maintenance jobs. Anything else is
 * treated as absent.
 */
async function visibleJobs(ds: DataSource, user: SessionUser, jobs: readonly FailedJob[]): Promise<FailedJob[]> {
  const orderIds = [...new Set(jobs.map((j) => (j.data as { orderId?: unknown } | null)?.orderId).filter((id): id is string => typeof id === 'string'))];
  const emailIds = [...new Set(jobs.map((j) => (j.data as { emailId?: unknown } | null)?.emailId).filter((id): id is string => typeof id === 'string'))];
  const ownOrders = new Set<string>(orderIds.length
    ? (await ds.query('SELECT id FROM kassa_order WHERE organizer_id = $1 AND id::text = ANY($2)', [user.organizerId, orderIds])).map((r: { id: string }) => r.id) : []);
  const ownEmails = new Set<string>(emailIds.length
    ? (await ds.query('SELECT id FROM email_message WHERE organizer_id = $1 AND id::text = ANY($2)', [user.organizerId, emailIds])).map((r: { id: string }) => r.id) : []);
  return jobs.filter((j) => {
    const data = (j.data ?? {}) as { orderId?: string; emailId?: string };
    if (j.queue === 'events') return !!data.orderId && ownOrders.has(data.orderId);
    if (j.queue === 'emails') return !!data.emailId && ownEmails.has(data.emailId);
    return user.isAdmin;
  });
}

/** Failed jobs (list, retry), the stored-emails reader and the organizer's API tokens. */
export const adminRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const ds = deps.dataSource;

  app.get('/control/jobs', { onRequest: async (req) => requireAdmin(req) }, async (req, reply) => {
    const jobs = deps.jobs ? await visibleJobs(ds, userOf(req), await deps.jobs.listFailedJobs({ limit: 100 })) : [];
    return renderPage(req, reply, 'jobs', { title: 'Failed jobs', section: 'jobs', jobs, available: !!deps.jobs });
  });

  app.post<{ Params: { queue: string; id: string } }>('/control/jobs/:queue/:id/retry', {
    schema: {
      params: { type: 'object', required: ['queue', 'id'], properties: { queue: { type: 'string', enum: ['events', 'emails', 'maintenance'] }, id: { type: 'string', minLength: 1, maxLength: 200 } } },
      body: csrfOnly,
    },
    onRequest: async (req) => requireAdmin(req),
  }, async (req, reply) => {
    if (!deps.jobs) throw new KassaError('NOT_FOUND', { entity: 'Job' });
    const visible = await visibleJobs(ds, userOf(req), await deps.jobs.listFailedJobs({ queue: req.params.queue as FailedJob['queue'], limit: 1000 }));
    if (!visible.some((j) => j.id === req.params.id)) throw new KassaError('NOT_FOUND', { entity: 'Job' });
    await deps.jobs.retryJob(req.params.queue as FailedJob['queue'], req.params.id);
    return redirectWithFlash(req, reply, '/control/jobs', `Job ${req.params.id} queued again.`);
  });

  app.get<{ Querystring: { page?: number } }>('/control/emails', {
    schema: { querystring: { type: 'object', properties: { page: { type: 'integer', minimum: 1, maximum: 10000, default: 1 } }, additionalProperties: false } },
  }, async (req, reply) => {
    const page = req.query.page ?? 1;
    const emails = await listStoredEmails(ds, { organizerId: userOf(req).organizerId, limit: 50, offset: (page - 1) * 50 });
    return renderPage(req, reply, 'emails', { title: 'Emails', section: 'emails', emails, page, enabled: deps.config.storedEmails ?? true });
  });

  app.get<{ Params: { emailId: string } }>('/control/emails/:emailId', { schema: { params: idParams('emailId') } }, async (req, reply) => {
    const email = await getStoredEmail(ds, req.params.emailId, userOf(req).organizerId);
    if (!email) throw new KassaError('NOT_FOUND', { entity: 'Email' });
    return renderPage(req, reply, 'email', { title: email.subject, section: 'emails', email });
  });

  const tokensPage = async (req: FastifyRequest, reply: Parameters<typeof renderPage>[1], created?: { name: string; token: string }) => {
    const tokens = await ds.query(
      'SELECT id, name, active, created_at AS "createdAt", last_used_at AS "lastUsedAt" FROM api_token WHERE organizer_id = $1 ORDER BY created_at DESC',
      [userOf(req).organizerId],
    );
    return renderPage(req, reply, 'api-tokens', { title: 'API tokens', section: 'tokens', tokens, created });
  };

  app.get('/control/api-tokens', { onRequest: async (req) => requireAdmin(req) }, async (req, reply) => tokensPage(req, reply));

  app.post<{ Body: { name: string } }>('/control/api-tokens', {
    schema: { body: { type: 'object', required: ['name'], properties: { _csrf: { type: 'string' }, name: { type: 'string', minLength: 1, maxLength: 100 } }, additionalProperties: false } },
    onRequest: async (req) => requireAdmin(req),
  }, async (req, reply) => {
    const { token } = await createApiToken(ds, userOf(req).organizerId, req.body.name);
    // Shown once, on this response only: only its hash is stored.
    reply.header('cache-control', 'no-store');
    return tokensPage(req, reply, { name: req.body.name, token });
  });

  app.post<{ Params: { tokenId: string } }>('/control/api-tokens/:tokenId/revoke', {
    schema: { params: idParams('tokenId'), body: csrfOnly },
    onRequest: async (req) => requireAdmin(req),
  }, async (req, reply) => {
    if (!(await revokeApiToken(ds, userOf(req).organizerId, req.params.tokenId))) throw new KassaError('NOT_FOUND', { entity: 'API token' });
    return redirectWithFlash(req, reply, '/control/api-tokens', 'Token revoked.');
  });
};
