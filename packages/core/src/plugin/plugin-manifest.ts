import type { MigrationInterface } from 'typeorm';
import type { LogSentence } from '../audit/log-sentences';
import type { AppConfig } from '../config/config.schema';
import type { Clock } from '../clock';
import type { ErrorCatalogue } from '../errors';
import type { TeamPermission } from '../organizer/team-permissions';
import type { PluginMigration } from '../port/plugin-db';
import type { BasePaymentProvider, JsonSchema } from '../provider/base-payment-provider';
import type { PluginJobProcessor, PluginLogger, PluginRouteHandler, PluginRuntime, PluginSetupContext } from './plugin-runtime';

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

/** A TypeORM migration class, as the host runs them (plugins declare plain PluginMigration objects). */
export type MigrationClass = new () => MigrationInterface;

export const pluginRouteMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const pluginRouteKinds = ['webhook', 'shop', 'control', 'api'] as const;

/**
 * A route as plain data; the server mounts it under `/plugins/<plugin name>` and decides by `kind`
 * what surrounds it: `webhook` gets the raw body and no session or CSRF check, `shop` the buyer's
 * session, `control` an authenticated organizer, `api` a token.
 */
// Params and body differ per route (defineRoute checks them against the path); the host passes them through.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyParams = any;

export interface PluginRoute<State = unknown> {
  readonly method: (typeof pluginRouteMethods)[number];
  /** Starts with "/", e.g. "/webhook" or "/return/:paymentId". */
  readonly path: string;
  readonly kind: (typeof pluginRouteKinds)[number];
  /** Called by the server with the request and the plugin's runtime (build it with defineRoute for typed params). */
  readonly handler: PluginRouteHandler<State, AnyParams, AnyParams>;
  /**
   * Extra data for the server (e.g. a JSON schema for the body), passed through untouched. The
   * payment settings page reads `keysSetting` of a `POST /control/webhook-endpoint` route
   * (docs/writing-a-plugin.md).
   */
  readonly options?: Readonly<Record<string, unknown>>;
  /**
   * `control` routes that move money or change an order (capture, release): the request must carry
   * the page's one-time action key (form field `_actionKey`, which the host hands every provider
   * partial of the order page as `actionKey`, or the header `x-kassa-action-key`). The host claims
   * it before the handler runs and gives it back when the handler refuses (4xx), so a double
   * click or a replayed form never reaches the handler twice (ActionKeyService).
   * `{ paymentParam }` names the path parameter holding the payment acted on: the host then
   * answers NOT_FOUND for another organizer's payment before it looks at the key, and takes only
   * a key issued for that payment's order. `{ refundParam }` does the same for a refund (e.g. a
   * manual refund marked done). Every control page a plugin renders (a `view` answer) gets a key
   * of the signed-in organizer as `actionKey` too, for its own forms.
   */
  readonly oneTime?: true | { readonly paymentParam: string } | { readonly refundParam: string };
  /**
   * `control` and `api` routes: the team permission the signed-in user (or the API token) needs
   * (docs/writing-a-plugin.md); without it the host answers 404 before the handler runs. Default:
   * 'organizer.settings'. An
   * event-level permission ('event.orders.view', 'event.orders.change', 'event.settings') is
   * checked against the event of the route's `:eventId`, `:orderId` or `:paymentId` parameter
   * when the path has one; 'member' lets in anyone in one of the organizer's teams; 'operator'
   * only the instance's operators (users marked as operators; the request then has `isOperator`).
   */
  readonly permission?: TeamPermission | 'member' | 'operator';
}

/** A background job as plain data; the jobs package creates its queue and worker. */
export interface PluginJob<State = unknown> {
  /** Unique within the plugin; the jobs package prefixes it with the plugin name. */
  readonly name: string;
  /** Called by the worker with the stored payload (build it with defineJob for a typed, checked payload). */
  readonly processor: PluginJobProcessor<State>;
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
export interface PluginDefinition<State = unknown> {
  /** Lowercase, e.g. "stripe"; also the settings namespace "plugin.<name>" and the route prefix. */
  readonly name: string;
  /** The plugin's own semver version. */
  readonly version: string;
  /** Semver range of @kassa/core versions it works with, e.g. "^0.1.0". */
  readonly coreRange: string;
  readonly description?: string;
  readonly providers?: readonly ProviderFactory[];
  /**
   * Plain migrations of the plugin's own tables (`{ name, up(db), down(db) }`), in order. Names
   * end with a 13-digit timestamp, are unique across plugins and never change (the database
   * records them by name).
   */
  readonly migrations?: readonly PluginMigration[];
  /**
   * The plugin's own error codes (code → status, message, guidance), prefixed with its name in
   * capitals (STRIPE_…); the loader refuses a code core or another plugin already declares.
   * Throw them with `pluginError(catalogue, code, params)`; docs/errors.md lists them.
   */
  readonly errors?: ErrorCatalogue;
  /**
   * Creates what the plugin keeps per host (caches, batchers), once, when the host builds the
   * plugin's runtime; handlers read it as `rt.state`. A `close()` on it is called when the host
   * closes. No module-level state: two hosts in one process never share it.
   */
  readonly setup?: (ctx: PluginSetupContext) => State;
  /** JSON Schema (TypeBox is fine) of plugin-wide settings, stored in namespace "plugin.<name>". */
  readonly settingsSchema?: JsonSchema;
  readonly routes?: readonly PluginRoute<State>[];
  readonly jobs?: readonly PluginJob<State>[];
  /** Absolute path of the folder with the plugin's Eta partials (render hooks name them). */
  readonly views?: string;
  /**
   * What the plugin needs for the embedded default (`pnpm start` with nothing configured): the
   * distribution calls it at start-up, before the HTTP app is built, and only there (never in
   * production with real accounts). Answer null when the operator configured the plugin already
   * (nothing is started then). The Stripe plugin starts its offline emulator here.
   */
  readonly embeddedDefault?: (host: EmbeddedDefaultHost) => Promise<EmbeddedDefault<State> | null>;
  /**
   * Human sentences (en, de) for the plugin's own log action codes (`kassa.<name>.…`), shown in the
   * order log and the API instead of the code; see LogSentence for the placeholders.
   */
  readonly logSentences?: Readonly<Record<string, LogSentence>>;
  /**
   * What the organizer must act on, shown at the top of the control panel's dashboard (e.g. Stripe
   * asking for more information about a connected account by a deadline). Called with the signed-in
   * organizer on every dashboard view, so answer from the plugin's own tables, never from a remote
   * API, and only about that organizer. The host bounds the time it waits, logs a failure and shows
   * the page without the plugin's notices; it escapes every text.
   */
  readonly dashboardNotices?: (organizerId: string, rt: PluginRuntime<State>) => Promise<readonly DashboardNotice[]>;
}

/** One notice on the organizer's dashboard (PluginDefinition.dashboardNotices). */
export interface DashboardNotice {
  readonly level: 'info' | 'warning' | 'danger';
  /** Plain text; the host escapes it. */
  readonly message: string;
  /** Where the organizer acts on it: a path of this instance ("/plugins/…"); anything else is not linked. */
  readonly url?: string;
  /** By when, if the notice has a deadline; shown in UTC. */
  readonly deadline?: Date;
}

/** What the distribution hands a plugin's embeddedDefault hook. */
export interface EmbeddedDefaultHost {
  /** The plugin's instance-level (global) settings, which only the host may write. */
  readonly globalSettings: {
    /**
     * `namespace` is the plugin's ("plugin.<name>", the default) or one of its providers'
     * ("payment.<id>"); read fresh, never from a cache.
     */
    read(namespace?: string): Promise<Record<string, unknown>>;
    write(values: Record<string, unknown>, namespace?: string): Promise<void>;
  };
  readonly log: PluginLogger;
}

/** What an embeddedDefault hook started. */
export interface EmbeddedDefault<State = unknown> {
  /** After the server listens (e.g. register a webhook endpoint that reaches it); failures are logged, never fatal. */
  afterListen?(rt: PluginRuntime<State>): Promise<void>;
  /** Stops what the hook started; called on shutdown, after the HTTP server and the jobs. */
  close(): Promise<void>;
}

/** A plugin as definePlugin returns it: the definition, frozen and marked. */
// A plugin list holds plugins of different State types; the host hands each its own state back.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Plugin<State = any> = PluginDefinition<State> & { readonly [pluginMark]: true };

/** Marks values made by definePlugin, so the loader can tell them from a wrong default export. */
export const pluginMark: unique symbol = Symbol.for('kassa.plugin');
