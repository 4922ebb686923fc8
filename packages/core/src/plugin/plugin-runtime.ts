import type { Clock } from '../clock';
import type { ViewModel } from '../provider/provider-types';
import type { PaymentsPort } from '../port/payments-port';
import type { PluginDb } from '../port/plugin-db';
import type { PluginSettings } from '../port/plugin-settings';

/**
 * What a plugin's routes and jobs receive from the host (server or worker): the plugin port.
 * Framework-neutral on purpose: a plugin imports only @kassa/core, never fastify, bullmq or
 * TypeORM, so the host adapts its own request and job objects to these shapes. `State` is what
 * the plugin's `setup` made for this host (caches, batchers), closed with the host.
 */
export interface PluginRuntime<State = unknown> {
  /** The plugin's name. */
  readonly plugin: string;
  /** Core's payments and refunds: reads, the payment lock, changes through core's services, events. */
  readonly payments: PaymentsPort;
  /** The plugin's own tables (core's are reached through `payments`). */
  readonly db: PluginDb;
  /** The plugin's and its providers' settings namespaces. */
  readonly settings: PluginSettings;
  readonly clock: Clock;
  /** Absolute base URL of this instance, without trailing slash. */
  readonly baseUrl: string;
  /**
   * Enqueues one of this plugin's jobs by its declared name. `jobId` makes the enqueue idempotent
   * (a second enqueue with the same id is a no-op), so derive it from the row or event id.
   */
  enqueue(job: string, payload: Record<string, unknown>, opts?: { jobId?: string; delayMs?: number }): Promise<void>;
  readonly log: PluginLogger;
  /** What the plugin's `setup` returned for this host. */
  readonly state: State;
}

/** A job's runtime: the plugin port plus the attempt number (starting at 1; idempotency comes from ids, never from it). */
export type PluginJobRuntime<State = unknown> = PluginRuntime<State> & { readonly attempt: number };

/** What a plugin's `setup` receives: the parts of the port that exist before any request. */
export type PluginSetupContext = Pick<PluginRuntime, 'plugin' | 'db' | 'settings' | 'clock' | 'baseUrl' | 'log'>;

export interface PluginLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/** Header and query values as node's http parser gives them. */
export type PluginQuery = Readonly<Record<string, string | string[] | undefined>>;

/** A request to a plugin route, as the server hands it over; `Params` come from the route's path. */
export interface PluginHttpRequest<Params extends object = Readonly<Record<string, string>>, Body = unknown> {
  readonly method: string;
  /** Path params of the route, e.g. { account } for "/webhook/:account". */
  readonly params: Readonly<Params>;
  readonly query: PluginQuery;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Exact bytes received (at most 1 MB for `webhook` routes, whose body is never parsed before the plugin sees it). */
  readonly rawBody: Buffer;
  /** Parsed body for non-webhook routes (JSON or form), validated by `options.bodySchema` when given. */
  readonly body?: Body;
  /** For `control` routes: the signed-in organizer. */
  readonly organizerId?: string;
  /**
   * For `control` routes: whether the signed-in user is in one of the organizer's admin teams
   * (may change settings). Plugins answer 404 to non-admins for settings-changing actions.
   */
  readonly isAdmin?: boolean;
  /** For `control` routes: whether the signed-in user is an instance operator (routes with permission 'operator' are theirs alone). */
  readonly isOperator?: boolean;
  /**
   * The client's IP address as the server sees it (behind a trusted proxy: the forwarded one); e.g.
   * for Stripe's tos_acceptance.ip. Not set for `webhook` routes: a provider proves itself by its
   * signature, and the server answers those before its framework has worked the address out.
   */
  readonly clientIp?: string;
}

/** What a plugin route answers. Exactly one of body, redirect or view. */
export type PluginHttpResponse =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { status?: 302 | 303; redirect: string }
  | { status?: number; view: ViewModel; title?: string };

/** The path parameters of a route path: "/pay/:paymentId/:token" → { paymentId: string; token: string }. */
export type PathParams<Path extends string> =
  Path extends `${string}:${infer Name}/${infer Rest}` ? { readonly [K in Name]: string } & PathParams<`/${Rest}`>
    : Path extends `${string}:${infer Name}` ? { readonly [K in Name]: string }
      : Record<never, string>;

export type PluginRouteHandler<State = unknown, Params extends object = Readonly<Record<string, string>>, Body = unknown> =
  (req: PluginHttpRequest<Params, Body>, rt: PluginRuntime<State>) => Promise<PluginHttpResponse>;

/** A plugin job's processor, with its payload type (checked by the job's `payload` parser). */
export type PluginJobProcessor<State = unknown, Payload = Record<string, unknown>> = (payload: Payload, rt: PluginJobRuntime<State>) => Promise<void>;
