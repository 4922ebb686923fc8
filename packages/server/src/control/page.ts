import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KassaError, hasPermission, type TeamPermission } from '@kassa/core/host';
import type { SessionUser } from '../auth/login.service';

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in organizer user; set by the control panel's auth hook. */
    kassaUser?: SessionUser;
  }
}

const nav = [
  { href: '/control', label: 'Dashboard', key: 'dashboard', admin: false },
  { href: '/control/events', label: 'Events', key: 'events', admin: false },
  { href: '/control/orders', label: 'Orders', key: 'orders', admin: false },
  { href: '/control/settings/payment', label: 'Payment settings', key: 'settings', admin: true },
  // Instance operators see the instance-wide jobs here even without an admin team.
  { href: '/control/jobs', label: 'Jobs', key: 'jobs', admin: true, operator: true },
  { href: '/control/emails', label: 'Emails', key: 'emails', admin: false },
  { href: '/control/api-tokens', label: 'API tokens', key: 'tokens', admin: true },
  { href: '/control/teams', label: 'Teams', key: 'teams', admin: false, permission: 'organizer.teams' },
  { href: '/control/account', label: 'Your teams', key: 'account', admin: false },
  { href: '/control/admin', label: 'Admin', key: 'admin', admin: true, operator: true, operatorOnly: true },
  { href: '/control/webhooks', label: 'Webhooks', key: 'webhooks', admin: false, permission: 'organizer.settings' },
  { href: '/control/exports', label: 'Exports', key: 'exports', admin: false },
  { href: '/control/shredder', label: 'Data shredder', key: 'shredder', admin: true },
];

/** Whether the user sees a navigation entry: the admin area for operators only, the rest for members with the rights. */
function navVisible(n: (typeof nav)[number], user: SessionUser): boolean {
  if ('operatorOnly' in n) return user.isOperator;
  if (!user.organizerId) return false;
  if ('permission' in n) return hasPermission(user.permissions, n.permission as TeamPermission);
  return !n.admin || user.isAdmin || ('operator' in n && user.isOperator);
}

/** The authenticated user; throws AUTH_REQUIRED if a route forgot the auth hook (never silently unscoped). */
export function userOf(req: FastifyRequest): SessionUser {
  if (!req.kassaUser) throw new KassaError('AUTH_REQUIRED');
  return req.kassaUser;
}

/**
 * Settings, API tokens and jobs belong to admin teams (Team.isAdmin); for other members these
 * pages do not exist, so they answer NOT_FOUND like any page outside the user's reach.
 */
export function requireAdmin(req: FastifyRequest): void {
  if (!userOf(req).isAdmin) throw new KassaError('NOT_FOUND', { entity: 'Page' });
}

/** The audit-log actor for a control-panel action. */
export function actorOf(req: FastifyRequest): { type: 'user'; id: string } {
  return { type: 'user', id: userOf(req).id };
}

/**
 * Renders a control-panel page inside the base layout: the user, the navigation, a fresh CSRF
 * token for every form on the page, and the one-shot flash message.
 */
export async function renderPage(
  req: FastifyRequest, reply: FastifyReply, template: string, data: Record<string, unknown> & { title: string; section?: string },
): Promise<FastifyReply> {
  const flash = req.session.flash;
  if (flash) delete req.session.flash;
  const csrfToken = reply.generateCsrf();
  const user = req.kassaUser;
  const html = await reply.viewAsync(`control/${template}`, {
    ...data,
    user,
    csrfToken,
    flash,
    brandHref: '/control',
    brandName: user ? (user.organizerId ? `Kassa · ${user.organizerName}` : 'Kassa · Admin') : 'Kassa',
    nav: user ? nav.filter((n) => navVisible(n, user)).map((n) => ({ ...n, active: n.key === data.section })) : undefined,
    bodyClass: 'control',
    cspNonce: reply.cspNonce?.script,
  });
  return reply.type('text/html; charset=utf-8').send(html);
}

/** Stores a message for the next page and redirects there (post/redirect/get). */
export function redirectWithFlash(req: FastifyRequest, reply: FastifyReply, to: string, message: string, kind: 'success' | 'error' | 'warning' = 'success'): FastifyReply {
  req.session.flash = { kind, message };
  return reply.redirect(to, 303);
}

/**
 * Field → message from a schema validation failure (`attachValidation: true`), so a form can be
 * shown again with each error beside its field.
 */
export function fieldErrors(err: Error | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of (err as { validation?: { instancePath?: string; params?: Record<string, unknown>; message?: string }[] } | undefined)?.validation ?? []) {
    const field = (v.params?.missingProperty as string | undefined) ?? (v.params?.additionalProperty as string | undefined) ?? v.instancePath?.replace(/^\//, '').split('/')[0] ?? 'form';
    out[field || 'form'] ??= v.params?.missingProperty ? 'is required' : v.params?.additionalProperty ? 'is not allowed' : v.message ?? 'is invalid';
  }
  return out;
}

/** The one catalogued refusal for a form re-shown with field errors. */
export function validationSummary(errors: Record<string, string>): KassaError {
  return new KassaError('VALIDATION_FAILED', { field: Object.keys(errors)[0], detail: Object.entries(errors).map(([f, m]) => `${f} ${m}`).join('; ') });
}

/** A uuid path parameter; anything else is refused by the schema before a query runs. */
export const uuid = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;

/** Params schema for routes with the given uuid parameters. */
export function idParams(...names: string[]): Record<string, unknown> {
  return { type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, uuid])) };
}

/**
 * A refusal that belongs beside a form field (its params name the field): the status and the
 * errors to show. Anything else is rethrown to the error handler.
 */
export function formRefusal(err: unknown, fallbackField = 'form'): { status: number; errors: Record<string, string> } {
  if (!(err instanceof KassaError) || err.status >= 500 || err.status === 404) throw err;
  const field = typeof err.params.field === 'string' ? err.params.field : fallbackField;
  return { status: err.status, errors: { [field]: err.message } };
}

/**
 * A one-time key for a form that starts a task (field `_formKey`): a double-clicked submit sends it
 * twice and the second finds the task the first started (bulk/bulk-task.store.ts).
 */
export function newFormKey(): string {
  return randomBytes(18).toString('base64url');
}

export const formKeyProperty = { _formKey: { type: 'string', minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } } as const;
