import type { Clock, DataSource } from '@kassa/core';

/** Server-level settings, resolved once from the validated core config by main.ts (or by a test). */
export interface ServerConfig {
  /** Absolute base URL without trailing slash, e.g. "http://127.0.0.1:3000". Secure cookies when https. */
  readonly baseUrl: string;
  /** At least 32 characters; signs the session cookie. */
  readonly sessionSecret: string;
  /** Recompile templates on every request (development). */
  readonly devTemplates?: boolean;
  /** Whether to log requests (pino). Tests pass false. */
  readonly logger?: boolean;
}

/**
 * Everything buildApp needs, wired by main.ts (or by a test). The app creates no database pools,
 * queues or providers of its own, so a test hands in its own test database and clock.
 */
export interface AppDeps {
  readonly dataSource: DataSource;
  readonly config: ServerConfig;
  readonly clock: Clock;
}
