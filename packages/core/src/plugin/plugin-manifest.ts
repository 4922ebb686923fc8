import type { MigrationInterface } from 'typeorm';
import type { AppConfig } from '../config/config.schema';
import type { Clock } from '../clock';
import type { EntityClass } from '../db/data-source';
import type { BasePaymentProvider, JsonSchema } from '../provider/base-payment-provider';
import type { PluginLogger, PluginRuntime } from './plugin-runtime';

/** What core hands a provider when it creates it at boot. */
export interface ProviderEnvironment {
  readonly clock: Clock;
  /** The validated configuration, when the host passes it (the server and jobs do; unit tests may not). */
  readonly config?: AppConfig;
}

/**
 * A provider with any Settings and PaymentInfo types. `any` on purpose: a provider whose Settings is an
 * interface (no index signature) is not assignable to BasePaymentProvider<Record<string, unknown>>.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPaymentProvider = BasePaymentProvider<any, any>;

/** A provider class (`new StripeProvider(env)`) or a factory function returning an instance. */
export type ProviderFactory =
  | (new (env: ProviderEnvironment) => AnyPaymentProvider)
  | ((env: ProviderEnvironment) => AnyPaymentProvider);

export type MigrationClass = new () => MigrationInterface;

/** Any function: core stores handlers and processors and never calls them, so their types stay generic here. */
export type PluginHandler = (...args: never[]) => unknown;

export const pluginRouteMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const pluginRouteKinds = ['webhook', 'shop', 'control', 'api'] as const;

/**
 * A route as plain data; the server mounts it under `/plugins/<plugin name>` and decides by `kind`
 * what surrounds it: `webhook` gets the raw body and no session or CSRF check, `shop` the buyer's
 * session, `control` an authenticated organizer, `api` a token.
 */
export interface PluginRoute {
  readonly method: (typeof pluginRouteMethods)[number];
  /** Starts with "/", e.g. "/webhook" or "/return/:paymentId". */
  readonly path: string;
  readonly kind: (typeof pluginRouteKinds)[number];
  /** Interpreted by the server (a fastify handler there); core only checks that it is a function. */
  readonly handler: PluginHandler;
  /** Extra data for the server (e.g. a JSON schema for the body), passed through untouched. */
  readonly options?: Readonly<Record<string, unknown>>;
  /**
   * `control` routes that move money or change an order (capture, release): the request must carry
   * the page's one-time action key (form field `_actionKey`, which the host hands every provider
   * partial of the order page as `actionKey`, or the header `x-kassa-action-key`). The host claims
   * it before the handler runs and gives it back when the handler refuses (4xx), so a double
   * click or a replayed form never reaches the handler twice (ActionKeyService).
   * `{ paymentParam }` names the path parameter holding the payment acted on: the host then
   * answers NOT_FOUND for another organizer's payment before it looks at the key, and takes only
   * a key issued for that payment's order.
   */
  readonly oneTime?: true | { readonly paymentParam: string };
}

/** A background job as plain data; the jobs package creates its queue and worker. */
export interface PluginJob {
  /** Unique within the plugin; the jobs package prefixes it with the plugin name. */
  readonly name: string;
  /** Interpreted by the jobs package (a BullMQ processor there). */
  readonly processor: PluginHandler;
  /** Run periodically: every N milliseconds or on a cron pattern. */
  readonly repeat?: { readonly everyMs: number } | { readonly cron: string };
  /**
   * Run once for every relayed outbox event of these topics (e.g. "refund.external"), after the
   * change committed; at least once, so the processor must be idempotent itself.
   */
  readonly topics?: readonly string[];
  readonly attempts?: number;
}

/** The fields a plugin declares with definePlugin. */
export interface PluginDefinition {
  /** Lowercase, e.g. "stripe"; also the settings namespace "plugin.<name>" and the route prefix. */
  readonly name: string;
  /** The plugin's own semver version. */
  readonly version: string;
  /** Semver range of @kassa/core versions it works with, e.g. "^0.1.0". */
  readonly coreRange: string;
  readonly description?: string;
  readonly providers?: readonly ProviderFactory[];
  /** TypeORM entity classes (decorated through @kassa/core's re-exports). */
  readonly entities?: readonly EntityClass[];
  /** Hand-written migrations for those entities; class names must be unique across plugins. */
  readonly migrations?: readonly MigrationClass[];
  /** JSON Schema (TypeBox is fine) of plugin-wide settings, stored in namespace "plugin.<name>". */
  readonly settingsSchema?: JsonSchema;
  readonly routes?: readonly PluginRoute[];
  readonly jobs?: readonly PluginJob[];
  /** Absolute path of the folder with the plugin's Eta partials (render hooks name them). */
  readonly views?: string;
  /**
   * What the plugin needs for the embedded default (`pnpm start` with nothing configured): the
   * distribution calls it at start-up, before the HTTP app is built, and only there (never in
   * production with real accounts). Answer null when the operator configured the plugin already
   * (nothing is started then). The Stripe plugin starts its offline emulator here.
   */
  readonly embeddedDefault?: (host: EmbeddedDefaultHost) => Promise<EmbeddedDefault | null>;
}

/** What the distribution hands a plugin's embeddedDefault hook. */
export interface EmbeddedDefaultHost {
  /** The plugin's instance-level (global) settings, which only the host may write. */
  readonly globalSettings: {
    read(): Promise<Record<string, unknown>>;
    write(values: Record<string, unknown>): Promise<void>;
  };
  readonly log: PluginLogger;
}

/** What an embeddedDefault hook started. */
export interface EmbeddedDefault {
  /** After the server listens (e.g. register a webhook endpoint that reaches it); failures are logged, never fatal. */
  afterListen?(rt: PluginRuntime): Promise<void>;
  /** Stops what the hook started; called on shutdown, after the HTTP server and the jobs. */
  close(): Promise<void>;
}

/** A plugin as definePlugin returns it: the definition, frozen and marked. */
export type Plugin = PluginDefinition & { readonly [pluginMark]: true };

/** Marks values made by definePlugin, so the loader can tell them from a wrong default export. */
export const pluginMark: unique symbol = Symbol.for('kassa.plugin');
