import { UnrecoverableError } from 'bullmq';
import { definePlugin, type PluginJob } from '@kassa/core/host';
import { isPermanentJobError, PermanentJobError } from '../../src/job-errors';
import { assertHandlers, handlersFor, type EventHandler } from '../../src/outbox/event-handler';
import { interpretPluginJobs, pluginEventHandlers, pluginJobId } from '../../src/plugin-jobs';
import { jobIds } from '../../src/queues';
import { defaultJobOptions, isLastAttempt } from '../../src/retry-policy';

const apply = async () => {};

describe('retry policy', () => {
  it('retries with exponential backoff and jitter, keeps failed jobs, and knows the last attempt', () => {
    const opts = defaultJobOptions({ attempts: 4, backoffMs: 1000 });
    expect(opts).toMatchObject({ attempts: 4, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 } });
    expect(opts.removeOnFail).toEqual({ age: 30 * 24 * 3600 });
    expect(isLastAttempt({ attemptsMade: 2, opts: { attempts: 4 } })).toBe(false);
    expect(isLastAttempt({ attemptsMade: 3, opts: { attempts: 4 } })).toBe(true);
  });

  it('treats PermanentJobError as BullMQ\'s unrecoverable error (no more attempts)', () => {
    const err = new PermanentJobError('order is gone');
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(isPermanentJobError(err)).toBe(true);
    expect(isPermanentJobError(new Error('timeout'))).toBe(false);
  });

  it('builds job ids BullMQ accepts (no ":" and never a bare integer)', () => {
    expect(jobIds.deliverEvent('42')).toBe('event-42');
    expect(jobIds.sendEmail('0b6d…')).toMatch(/^email-/);
  });
});

describe('event handlers', () => {
  it('refuses duplicate or malformed names, empty topics, and handlers that do nothing', () => {
    expect(() => assertHandlers([{ name: 'a.b', topics: ['x'], apply }, { name: 'a.b', topics: ['y'], apply }])).toThrow('registered twice');
    expect(() => assertHandlers([{ name: 'Bad Name', topics: ['x'], apply }])).toThrow('must be lower-case');
    expect(() => assertHandlers([{ name: 'a', topics: [], apply }])).toThrow('subscribes to no topic');
    expect(() => assertHandlers([{ name: 'a', topics: ['x'] }])).toThrow('neither apply nor afterCommit');
  });

  it('routes a topic to its subscribers in registration order, "*" included', () => {
    const hs: EventHandler[] = [
      { name: 'all', topics: ['*'], apply }, { name: 'paid', topics: ['order.paid'], apply }, { name: 'failed', topics: ['payment.failed'], apply },
    ];
    expect(handlersFor(hs, 'order.paid').map((h) => h.name)).toEqual(['all', 'paid']);
  });
});

describe('plugin jobs', () => {
  const processor = async () => undefined;

  it('reads repeat as a schedule, topics as event subscriptions, and keeps attempts', () => {
    const jobs = [
      { name: 'charge', processor, repeat: { cron: '0 3 * * *' }, attempts: 2 },
      { name: 'poll', processor, repeat: { everyMs: 60_000 } },
      { name: 'process-event', processor, attempts: 8 },
      { name: 'on-refund', processor, topics: ['refund.external'] } as PluginJob,
    ];
    const read = interpretPluginJobs([definePlugin({ name: 'stripe', version: '1.0.0', coreRange: '^0.1.0', jobs })]);
    expect(read.map(({ key, repeat, topics, attempts }) => ({ key, repeat, topics, attempts }))).toEqual([
      { key: 'stripe/charge', repeat: { pattern: '0 3 * * *' }, topics: null, attempts: 2 },
      { key: 'stripe/poll', repeat: { every: 60_000 }, topics: null, attempts: undefined },
      { key: 'stripe/process-event', repeat: null, topics: null, attempts: 8 },
      { key: 'stripe/on-refund', repeat: null, topics: ['refund.external'], attempts: undefined },
    ]);
    expect(pluginEventHandlers(read, () => { throw new Error('not called'); }).map((h) => [h.name, h.topics])).toEqual([['stripe.on-refund', ['refund.external']]]);
  });

  it('refuses malformed topics', () => {
    const plugin = definePlugin({ name: 'x', version: '1.0.0', coreRange: '^0.1.0', jobs: [{ name: 'j', processor, topics: 'order.paid' } as unknown as PluginJob] });
    expect(() => interpretPluginJobs([plugin])).toThrow('topics must be a non-empty array');
  });

  it('makes plugin job ids safe for BullMQ without merging two different ids', () => {
    expect(pluginJobId('stripe', 'stripe:acct_1:evt_9')).toBe('stripe--stripe%3Aacct_1%3Aevt_9');
    expect(pluginJobId('stripe', 'a%3Ab')).not.toBe(pluginJobId('stripe', 'a:b'));
    expect(pluginJobId('stripe', 'a:b')).not.toContain(':');
  });
});
