import http from 'node:http';
import https from 'node:https';
import type { Random } from '../ids';
import type { WebhookOptions } from '../options';
import type { StripeEvent, WebhookEndpoint } from '../types';
import { signatureHeader } from './signature';

export interface DeliveryRecord {
  event: string;
  type: string;
  endpoint: string;
  attempt: number;
  status: number | null;
  error?: string;
  duplicate: boolean;
  at: number;
}

interface Job {
  event: StripeEvent;
  endpoint: WebhookEndpoint;
  secrets: () => string[];
  attempt: number;
  duplicate: boolean;
}

/**
 * At-least-once delivery to registered endpoints (§5.2). Events queue up per tick and go out
 * as one batch, in creation order, reversed or shuffled (reorder knob), each possibly twice
 * (duplicateRate). Failed attempts (non-2xx, 3xx, timeouts) are retried after retryDelaysMs,
 * re-signed with a new timestamp each time.
 */
export class WebhookDelivery {
  readonly log: DeliveryRecord[] = [];
  private batch: Job[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryTimers = new Map<NodeJS.Timeout, () => void>();
  private idleWaiters: (() => void)[] = [];
  private retriesWaiting = 0;
  private closed = false;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(
    private options: Required<WebhookOptions>,
    private readonly random: Random,
    private readonly now: () => number,
  ) {}

  configure(patch: Partial<WebhookOptions>): Required<WebhookOptions> {
    this.options = { ...this.options, ...patch } as Required<WebhookOptions>;
    return this.options;
  }

  get settings(): Required<WebhookOptions> {
    return this.options;
  }

  enqueue(event: StripeEvent, endpoint: WebhookEndpoint, secrets: () => string[]): void {
    if (this.closed) return;
    if (this.options.dropRate > 0 && this.random.next() < this.options.dropRate) {
      // Lost on the way: nothing is sent and nothing retried; the event stays pending (delivery_success=false).
      this.log.push({ event: event.id, type: event.type, endpoint: endpoint.id, attempt: 0, status: null, error: 'dropped', duplicate: false, at: this.now() });
      return;
    }
    this.batch.push({ event, endpoint, secrets, attempt: 1, duplicate: false });
    if (this.options.duplicateRate > 0 && this.random.next() < this.options.duplicateRate) {
      this.batch.push({ event, endpoint, secrets, attempt: 1, duplicate: true });
    }
    if (!this.batchTimer) {
      // One batch per tick, so all events of one API call can be reordered among themselves.
      this.batchTimer = setTimeout(() => this.dispatchBatch(), this.options.delayMs);
    }
  }

  private dispatchBatch(): void {
    this.batchTimer = null;
    let jobs = this.batch;
    this.batch = [];
    if (this.options.reorder === 'reverse') jobs = jobs.reverse();
    else if (this.options.reorder === 'shuffle') {
      for (let i = jobs.length - 1; i > 0; i--) {
        const j = Math.floor(this.random.next() * (i + 1));
        [jobs[i], jobs[j]] = [jobs[j] as Job, jobs[i] as Job];
      }
    }
    // Sequential within a batch, so the chosen order is the order the receiver sees.
    this.track(
      (async () => {
        for (const job of jobs) await this.attempt(job);
      })(),
    );
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      this.checkIdle();
    });
  }

  private async attempt(job: Job): Promise<void> {
    if (this.closed) return;
    if (job.endpoint.status === 'disabled' && job.attempt > 1) return; // pending retries stop (§5.2)
    const api_version = job.endpoint.api_version ?? job.event.api_version;
    const payload = { ...job.event, api_version };
    const body = JSON.stringify(payload, null, 2);
    const t = Math.floor(this.now() / 1000);
    const header = signatureHeader(t, body, job.secrets(), this.options.v0Decoy);
    const record: DeliveryRecord = { event: job.event.id, type: job.event.type, endpoint: job.endpoint.id, attempt: job.attempt, status: null, duplicate: job.duplicate, at: Date.now() };
    this.log.push(record);
    try {
      record.status = await this.post(job.endpoint.url, body, header);
    } catch (err) {
      record.error = (err as Error).message;
    }
    const ok = record.status !== null && record.status >= 200 && record.status < 300;
    if (ok) {
      job.event.pending_webhooks = Math.max(0, job.event.pending_webhooks - 1);
      return;
    }
    const wait = this.options.retryDelaysMs[job.attempt - 1];
    if (wait === undefined || this.closed) return;
    this.retriesWaiting++;
    const fire = (): void => {
      this.retryTimers.delete(timer);
      this.retriesWaiting--;
      this.track(this.attempt({ ...job, attempt: job.attempt + 1 }));
    };
    const timer = setTimeout(fire, wait);
    this.retryTimers.set(timer, fire);
  }

  private post(url: string, body: string, signature: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const lib = u.protocol === 'https:' ? https : http;
      const req = lib.request(
        u,
        {
          method: 'POST',
          agent: u.protocol === 'https:' ? undefined : this.agent,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(body),
            'Stripe-Signature': signature,
            'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'X-Kassa-Emulator': 'stripe-emulator; development and tests only',
          },
          timeout: this.options.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.options.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private busy(): boolean {
    return this.batch.length > 0 || this.batchTimer !== null || this.inFlight.size > 0 || this.retriesWaiting > 0;
  }

  private checkIdle(): void {
    if (this.busy()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once nothing is queued, in flight or waiting for a retry. */
  waitForIdle(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Fires every waiting retry now instead of after its backoff. */
  retryNow(): void {
    for (const [timer, fire] of [...this.retryTimers]) {
      clearTimeout(timer);
      fire();
    }
  }

  reset(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    this.batch = [];
    for (const t of this.retryTimers.keys()) clearTimeout(t);
    this.retryTimers.clear();
    this.retriesWaiting = 0;
    this.log.length = 0;
    this.checkIdle();
  }

  close(): void {
    this.closed = true;
    this.reset();
    this.agent.destroy();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
