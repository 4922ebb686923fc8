import { Type, type Static } from '@sinclair/typebox';

/** A 32-byte key as 64 hex digits or as base64 / base64url (43 characters, optional "=" padding). */
export const secretKeyPattern = '^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$';

// One entry: an IPv4/IPv6 address with an optional prefix length or netmask, or a named range.
const proxyEntry = '(?:loopback|linklocal|uniquelocal|[0-9A-Fa-f:.]+(?:/[0-9.]{1,15})?)';
/** KASSA_TRUSTED_PROXIES: entries separated by commas (proxy-addr checks each address at start-up). */
export const trustedProxiesPattern = `^\\s*${proxyEntry}(?:\\s*,\\s*${proxyEntry})*\\s*$`;

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/**
 * The one configuration schema: every environment variable Kassa reads, its type and default.
 * The TypeScript type below is derived from it, so the two cannot drift apart.
 */
export const configSchema = Type.Object(
  {
    /** postgres:// URL. Unset: the server starts the embedded PostgreSQL (PGlite) in KASSA_DATA_DIR. */
    DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(?:ql)?://' })),
    /** redis:// URL. Unset: jobs use BullMQ's PostgreSQL backend on the main database. */
    REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
    /** 0 lets the OS pick a free port (tests). */
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
    /** Embedded database files and, in development, the generated secret key. */
    KASSA_DATA_DIR: Type.String({ minLength: 1, default: '.kassa-data' }),
    /** AES-256-GCM key for secrets in settings. Unset: the server generates one in embedded dev mode. */
    KASSA_SECRET_KEY: Type.Optional(Type.String({ pattern: secretKeyPattern })),
    /** Public base URL (return URLs, emails). Default: http://HOST:PORT. */
    BASE_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+(?:/[^\\s?#]*)?$' })),
    /**
     * The reverse proxies whose X-Forwarded-For/-Proto/-Host Kassa believes, comma-separated:
     * addresses, CIDR ranges, or `loopback`, `linklocal`, `uniquelocal`. Unset: none (clients are
     * identified by their TCP peer address). Needed with an https BASE_URL (TLS ends at the proxy).
     */
    KASSA_TRUSTED_PROXIES: Type.Optional(Type.String({ pattern: trustedProxiesPattern, maxLength: 2000 })),
    /** smtp:// or smtps:// URL. Unset: emails are logged, not sent. */
    SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
    // An enum (not a union of literals) so that a bad value gets one error listing the allowed ones.
    /** Sender of Kassa's emails, e.g. "Tickets <tickets@example.org>". */
    MAIL_FROM: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
    /** PostgreSQL schema of Kassa's tables on DATABASE_URL (default "public"). */
    KASSA_DB_SCHEMA: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
    /** PostgreSQL schema of BullMQ's tables when jobs run on the database (no REDIS_URL). */
    KASSA_JOBS_SCHEMA: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
    /** Key prefix of BullMQ's queues on Redis. */
    KASSA_JOBS_PREFIX: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    /**
     * How long (ms) each process may reuse the provider settings it read (one round trip less per
     * checkout request); 0 reads them every time. Writes through the control panel are visible at
     * once in the process that made them.
     */
    KASSA_SETTINGS_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
    /**
     * Instance-level settings the operator sets, as JSON: `{ "<namespace>": { "<key>": value } }`,
     * e.g. `{"payment.stripe": {"secretKey": "sk_live_…", "publishableKey": "pk_live_…"}}`. Written
     * at the global settings level at every start (a key set to null is removed there). The only way
     * to set instance-only settings (docs/security.md), such as Stripe's apiBase and stripeJsUrl.
     */
    KASSA_INSTANCE_SETTINGS: Type.Optional(Type.String({ minLength: 2, maxLength: 65_536 })),
    /**
     * Seconds to wait before emailing "please complete your payment" for a payment that needs the
     * buyer (3-D Secure, a bank app): sent only if it still waits for them then, so a buyer who
     * finishes in the browser gets no such email. Off-session payments are emailed at once.
     */
    KASSA_ACTION_EMAIL_DELAY_SECONDS: Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: 900 }),
    /**
     * Path of Apple Pay's domain association file (download it from the Stripe Dashboard, Settings →
     * Payment method domains). Served at /.well-known/apple-developer-merchantid-domain-association
     * on every host, so Apple Pay can verify the domains Kassa registers. Unset: that path is a 404.
     */
    KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    LOG_LEVEL: Type.Unsafe<LogLevel>({ type: 'string', enum: [...logLevels], default: 'info' }),
  },
  { additionalProperties: false },
);

type RawConfig = Static<typeof configSchema>;

/** The validated, frozen configuration. BASE_URL is always set (derived when absent) and has no trailing slash. */
export type AppConfig = Readonly<Omit<RawConfig, 'BASE_URL'> & { BASE_URL: string }>;

/** The keys of the schema: the only environment variables loadConfig reads. */
export const configKeys = Object.keys(configSchema.properties) as (keyof RawConfig)[];

/** Names people reach for that Kassa spells differently: the refusal says which one to use. */
export const renamedConfigKeys: Readonly<Record<string, string>> = { KASSA_PUBLIC_URL: 'BASE_URL', KASSA_BASE_URL: 'BASE_URL', KASSA_PORT: 'PORT', KASSA_HOST: 'HOST' };
