import type { DataSource } from 'typeorm';
import type { Clock } from '../clock';
import type { AppConfig } from '../config/config.schema';
import type { KassaCore } from '../kassa-core';
import type { ProviderRegistry } from '../provider/provider-registry';
import type { ViewModel } from '../provider/provider-types';
import type { SettingsStore } from '../settings/settings-store';

/**
 * What a plugin's routes and jobs receive from the host (server or worker). Framework-neutral on
 * purpose: a plugin imports only @kassa/core, never fastify or bullmq, so the host adapts its own
 * request/job objects to these shapes.
 */
export interface PluginRuntime {
  readonly core: KassaCore;
  readonly dataSource: DataSource;
  readonly settings: SettingsStore;
  readonly providers: ProviderRegistry;
  readonly clock: Clock;
  readonly config?: AppConfig;
  /** Absolute base URL of this instance, without trailing slash. */
  readonly baseUrl: string;
  /**
   * Enqueues one of this plugin's jobs by its declared name. `jobId` makes the enqueue idempotent
   * (a second enqueue with the same id is a no-op), so derive it from the row or event id.
   */
  enqueue(job: string, payload: Record<string, unknown>, opts?: { jobId?: string; delayMs?: number }): Promise<void>;
  readonly log: PluginLogger;
}

export interface PluginLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/** A request to a plugin route, as the server hands it over. */
export interface PluginHttpRequest {
  readonly method: string;
  /** Path params of the route, e.g. { accountId } for "/webhook/:accountId". */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Exact bytes received; for `webhook` routes the body is never parsed before the plugin sees it. */
  readonly rawBody: Buffer;
  /** Parsed body for non-webhook routes (JSON or form), validated by `options.bodySchema` when given. */
  readonly body?: unknown;
  /** For `control` routes: the signed-in organizer. */
  readonly organizerId?: string;
  /**
   * For `control` routes: whether the signed-in user is in one of the organizer's admin teams
   * (may change settings). Plugins answer 404 to non-admins for settings-changing actions.
   */
  readonly isAdmin?: boolean;
}

/** What a plugin route answers. Exactly one of body, redirect or view. */
export type PluginHttpResponse =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { status?: 302 | 303; redirect: string }
  | { status?: number; view: ViewModel; title?: string };

export type PluginRouteHandler = (req: PluginHttpRequest, rt: PluginRuntime) => Promise<PluginHttpResponse>;

/** A plugin job's processor. `attempt` starts at 1; idempotency comes from ids, never from it. */
export type PluginJobProcessor = (payload: Record<string, unknown>, rt: PluginRuntime & { readonly attempt: number }) => Promise<void>;
