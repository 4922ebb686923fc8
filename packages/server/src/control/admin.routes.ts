import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { KassaError } from '@kassa/core/host';
import { getStoredEmail, listStoredEmails, queueNames, type JobViewer, type QueueKey } from '@kassa/jobs';
import type { AppDeps } from '../deps';
import type { SessionUser } from '../auth/login.service';
import { idParams, redirectWithFlash, renderPage, userOf } from './page';

const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } as const;

/**
 * Who is looking at the failed jobs: an organizer's admin sees that organizer's jobs (whatever
 * queue they are on), an instance operator also the instance-wide ones (maintenance, schedulers,
 * webhooks). Another organizer's job is treated as absent.
 */
function viewerOf(user: SessionUser): JobViewer {
  return { organizerId: user.isAdmin ? user.organizerId : null, operator: user.isOperator };
}

/** The jobs page is for organizer admins and instance operators; anyone else gets 404. */
function requireJobsViewer(req: FastifyRequest): void {
  const user = userOf(req);
  if (!user.isAdmin && !user.isOperator) throw new KassaError('NOT_FOUND', { entity: 'Page' });
}

/** Failed jobs (list, retry) and the stored-emails reader (API tokens: api-tokens.routes.ts). */
export const adminRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const ds = deps.dataSource;

  app.get('/control/jobs', { config: { permission: ['organizer.settings', 'operator'] }, onRequest: async (req) => requireJobsViewer(req) }, async (req, reply) => {
    const user = userOf(req);
    const jobs = deps.jobs ? await deps.jobs.listFailedJobs({ limit: 100, viewer: viewerOf(user) }) : [];
    return renderPage(req, reply, 'jobs', { title: 'Failed jobs', section: 'jobs', jobs, available: !!deps.jobs, operator: user.isOperator });
  });

  app.post<{ Params: { queue: QueueKey; id: string } }>('/control/jobs/:queue/:id/retry', {
    config: { permission: ['organizer.settings', 'operator'] },
    schema: {
      params: { type: 'object', required: ['queue', 'id'], properties: { queue: { type: 'string', enum: Object.keys(queueNames) }, id: { type: 'string', minLength: 1, maxLength: 300 } } },
      body: csrfOnly,
    },
    onRequest: async (req) => requireJobsViewer(req),
  }, async (req, reply) => {
    if (!deps.jobs) throw new KassaError('NOT_FOUND', { entity: 'Job' });
    // The runtime checks the job's organizer against the viewer and answers NOT_FOUND for another's.
    await deps.jobs.retryJob(req.params.queue, req.params.id, viewerOf(userOf(req)));
    return redirectWithFlash(req, reply, '/control/jobs', `Job ${req.params.id} queued again.`);
  });

  app.get<{ Querystring: { page?: number } }>('/control/emails', {
    config: { permission: 'event.orders.view', permissionOnAllEvents: true },
    schema: { querystring: { type: 'object', properties: { page: { type: 'integer', minimum: 1, maximum: 10000, default: 1 } }, additionalProperties: false } },
  }, async (req, reply) => {
    const page = req.query.page ?? 1;
    const emails = await listStoredEmails(ds, { organizerId: userOf(req).organizerId, limit: 50, offset: (page - 1) * 50 });
    return renderPage(req, reply, 'emails', { title: 'Emails', section: 'emails', emails, page, enabled: deps.config.storedEmails ?? true });
  });

  app.get<{ Params: { emailId: string } }>('/control/emails/:emailId', { config: { permission: 'event.orders.view', permissionOnAllEvents: true }, schema: { params: idParams('emailId') } }, async (req, reply) => {
    const email = await getStoredEmail(ds, req.params.emailId, userOf(req).organizerId);
    if (!email) throw new KassaError('NOT_FOUND', { entity: 'Email' });
    return renderPage(req, reply, 'email', { title: email.subject, section: 'emails', email });
  });
};
