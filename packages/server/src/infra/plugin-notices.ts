import type { FastifyBaseLogger } from 'fastify';
import { KassaError, type DashboardNotice, type LoadedPlugins, type PluginRuntime } from '@kassa/core/host';
import type { AppDeps } from '../deps';

/** A plugin's notice as the dashboard view shows it (texts escaped by the template). */
export interface DashboardNoticeView {
  readonly plugin: string;
  /** The flash style: info, warning, error. */
  readonly kind: 'info' | 'warning' | 'error';
  readonly message: string;
  readonly url: string | null;
  /** "YYYY-MM-DD HH:MM UTC", or null. */
  readonly deadline: string | null;
}

/** Reads the organizer's notices from every plugin that declares `dashboardNotices`. */
export type DashboardNoticesSource = (organizerId: string) => Promise<readonly DashboardNoticeView[]>;

const levels = { info: 'info', warning: 'warning', danger: 'error' } as const;
/** Enough for one notice per account and requirement group; more would bury the page's own figures. */
const maxPerPlugin = 10;
const maxMessageLength = 500;

/**
 * The dashboard's notices: every contributing plugin is asked at once, each bounded by `timeoutMs`
 * (the dashboard is not held up by a slow plugin). A plugin that throws, times out or answers
 * something that is not a list of notices is logged and left out; the page shows the rest.
 */
export function dashboardNoticesSource(opts: {
  deps: AppDeps;
  contributors: LoadedPlugins['dashboardNotices'];
  runtimeOf: (plugin: string, organizerId: string) => PluginRuntime;
  log: FastifyBaseLogger;
  timeoutMs?: number;
}): DashboardNoticesSource {
  const timeoutMs = opts.timeoutMs ?? 2000;
  return async (organizerId) => {
    const answers = await Promise.all(opts.contributors.map(async ({ plugin, owner }) => {
      const hook = owner.dashboardNotices;
      if (!hook) return [];
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        const notices = await Promise.race([hook(organizerId, opts.runtimeOf(plugin, organizerId)), timeout]);
        return viewsOf(plugin, notices, opts.log);
      } catch (err) {
        opts.log.warn({ plugin, organizerId, err: err instanceof Error ? err.message : String(err) }, 'dashboard notices of a plugin left out');
        return [];
      } finally {
        clearTimeout(timer);
      }
    }));
    return answers.flat();
  };
}

function viewsOf(plugin: string, notices: unknown, log: FastifyBaseLogger): DashboardNoticeView[] {
  if (!Array.isArray(notices)) throw new Error('dashboardNotices must answer an array');
  const views: DashboardNoticeView[] = [];
  for (const n of notices.slice(0, maxPerPlugin) as Partial<DashboardNotice>[]) {
    const kind = typeof n?.level === 'string' ? levels[n.level] : undefined;
    if (!kind || typeof n.message !== 'string' || n.message.trim() === '') {
      log.warn({ plugin }, 'a dashboard notice without a known level or a message left out');
      continue;
    }
    // Only paths of this instance are linked: a notice never sends the organizer elsewhere.
    const url = typeof n.url === 'string' && /^\/(?![/\\])/.test(n.url) ? n.url : null;
    const deadline = n.deadline instanceof Date && !Number.isNaN(n.deadline.getTime())
      ? `${n.deadline.toISOString().replace('T', ' ').slice(0, 16)} UTC` : null;
    views.push({ plugin, kind, message: n.message.slice(0, maxMessageLength), url, deadline });
  }
  return views;
}

/** The enqueue of a runtime asked for notices: bound to the organizer, like a control route's. */
export function noticeEnqueue(deps: AppDeps, plugin: string, organizerId: string): PluginRuntime['enqueue'] {
  return async (job, payload, jobOpts) => {
    if (!deps.enqueuePluginJob) throw new KassaError('PROVIDER_ERROR', { provider: plugin, detail: `no job runtime to enqueue ${job}` });
    await deps.enqueuePluginJob(plugin, job, payload, { jobId: jobOpts?.jobId, delayMs: jobOpts?.delayMs, organizerId });
  };
}
