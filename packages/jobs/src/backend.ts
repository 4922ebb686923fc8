import type { EventEmitter } from 'node:events';
import {
  Queue, Worker, createPostgresBackend, runMigrations as runBullmqMigrations, withBackend,
  type ConnectionOptions, type Processor, type QueueOptions, type WorkerOptions,
} from 'bullmq';
import { Client } from 'pg';
import type { JobsBackendConfig } from './config';

/**
 * The one place that knows which datastore BullMQ runs on. Everything else gets Queue and Worker
 * instances with the same API and never branches on the backend.
 */
export interface JobsBackend {
  readonly kind: JobsBackendConfig['kind'];
  /** Creates BullMQ's own tables (PostgreSQL backend); a no-op on Redis. Safe to call from many processes. */
  prepare(): Promise<void>;
  createQueue(name: string, opts?: Omit<QueueOptions, 'connection'>): Queue;
  createWorker(name: string, processor: Processor, opts: Omit<WorkerOptions, 'connection'>): Worker;
  /**
   * Calls `listener` each time the queue's connection becomes ready again (Redis: ioredis 'ready'
   * after a reconnect); returns the unsubscribe. PostgreSQL keeps its rows across a restart, so
   * there it never fires.
   */
  onReady(queue: Queue, listener: () => void): () => void;
  /** Removes everything this backend stored (tests and benchmarks only). */
  destroyAll(): Promise<void>;
}

export function createJobsBackend(config: JobsBackendConfig): JobsBackend {
  return config.kind === 'redis' ? redisBackend(config) : postgresBackend(config);
}

function redisBackend(config: Extract<JobsBackendConfig, { kind: 'redis' }>): JobsBackend {
  // maxRetriesPerRequest: null makes commands wait for a reconnect instead of failing, so a Redis
  // restart delays the relay and the workers rather than losing what they were doing.
  const connection: ConnectionOptions = { ...parseRedisUrl(config.url), maxRetriesPerRequest: null };
  return {
    kind: 'redis',
    async prepare() {},
    createQueue: (name, opts) => new Queue(name, { ...opts, connection, prefix: config.prefix }),
    createWorker: (name, processor, opts) => new Worker(name, processor, { ...opts, connection, prefix: config.prefix }),
    onReady(queue, listener) {
      // The Redis backend re-emits its connection's 'ready', which ioredis emits after every reconnect.
      const emitter = queue.getBackend() as unknown as EventEmitter;
      emitter.on('ready', listener);
      return () => emitter.off('ready', listener);
    },
    async destroyAll() {
      const { Redis } = await import('ioredis');
      const redis = new Redis({ ...parseRedisUrl(config.url), lazyConnect: true });
      await redis.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}

function postgresBackend(config: Extract<JobsBackendConfig, { kind: 'postgres' }>): JobsBackend {
  const pg = withBackend(createPostgresBackend);
  const connection = { connectionString: config.url, schema: config.schema, max: config.poolSize };
  // Both backends expose the same IQueueBackend contract; the cast only erases the backend type
  // parameter so that callers hold one Queue/Worker type whichever datastore is configured.
  return {
    kind: 'postgres',
    async prepare() {
      const client = new Client({ connectionString: config.url });
      await client.connect();
      try {
        await runBullmqMigrations(client, config.schema);
      } finally {
        await client.end();
      }
    },
    createQueue: (name, opts) => new pg.Queue(name, { ...opts, connection }) as unknown as Queue,
    createWorker: (name, processor, opts) => {
      // Started on its own, bullmq's Postgres worker names its LISTEN connection (readiness) and
      // subscribes it (first fetch) on that one pg client at the same time: fetch once it is named.
      const worker = new pg.Worker(name, processor, { ...opts, connection, autorun: false });
      if (opts.autorun ?? true) worker.waitUntilReady().then(() => worker.run()).catch((error: unknown) => worker.emit('error', error as Error));
      return worker as unknown as Worker;
    },
    onReady: () => () => undefined,
    async destroyAll() {
      const client = new Client({ connectionString: config.url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

function parseRedisUrl(url: string): { host: string; port: number; username?: string; password?: string; db: number; tls?: object } {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
