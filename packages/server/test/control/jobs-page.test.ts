import { randomBytes } from 'node:crypto';
import { definePlugin, type PluginJob } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger, type EventHandler, type JobsRuntime, type QueueKey } from '@kassa/jobs';
import {
  createOrganizerFixture, createTestApp, createUser, getPage, login, postForm,
  type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

/**
 * The failed-jobs page on a shared instance: each organizer admin sees and retries the failed jobs
 * of their own organizer only (whatever queue they are on), instance-wide jobs are for instance
 * operators, and another organizer's job id is 404. Real Redis (own prefix), real jobs runtime.
 */
let t: TestApp;
let jobs: JobsRuntime;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;
let operator: Browser;
/** Plugin job payloads whose `key` is in here fail; a retry after removing it succeeds. */
const failing = new Set<string>();
const runs: string[] = [];

const pluginJobs = [
  {
    name: 'charge', attempts: 1,
    processor: async (p: Record<string, unknown>) => {
      runs.push(String(p.key));
      if (failing.has(String(p.key))) throw new Error(`charge ${String(p.key)} on acct_secret failed`);
    },
  },
] as unknown as PluginJob[];
const failingHandler: EventHandler = {
  name: 'test.fails', topics: ['test.fails'],
  afterCommit: async (event) => {
    throw new Error(`handler for event ${event.id} of organizer ${event.organizerId} failed`);
  },
};

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function failedIds(queue: QueueKey): Promise<string[]> {
  return (await jobs.listFailedJobs({ queue })).map((j) => j.id);
}

/** Enqueues a plugin job for `organizerId` (as the host does) and waits until it has failed. */
async function failedPluginJob(key: string, organizerId: string | null): Promise<string> {
  failing.add(key);
  await jobs.enqueuePluginJob('acme', 'charge', { key }, { jobId: key, organizerId });
  let id = '';
  await waitFor(`plugin job ${key} to fail`, async () => {
    id = (await jobs.listFailedJobs({ queue: 'plugins' })).find((j) => (j.data as { payload: { key: string } }).payload.key === key)?.id ?? '';
    return id !== '';
  });
  return id;
}

const retryUrl = (queue: string, id: string) => `/control/jobs/${queue}/${encodeURIComponent(id)}/retry`;

beforeAll(async () => {
  t = await createTestApp();
  const plugin = definePlugin({ name: 'acme', version: '1.0.0', coreRange: '^0.1.0', jobs: pluginJobs });
  jobs = await createJobsRuntime({
    dataSource: t.db.dataSource, logger: silentLogger, clock: t.clock, withoutEmailHandlers: true, handlers: [failingHandler],
    plugins: [plugin],
    // An export that fails (the tasks queue), and a webhook delivery worker (the webhooks queue).
    hostJobs: [{ name: 'export', attempts: 1, run: async (p) => { throw new Error(`export ${String(p.taskId)} failed`); } }],
    webhooks: { service: { openSecret: () => 'whsec_test', allowPrivateAddresses: false } },
    pluginHost: { core: t.core, dataSource: t.db.dataSource, settings: t.deps.settings, providers: t.deps.providers, clock: t.clock, baseUrl: t.deps.config.baseUrl },
    config: defineJobsConfig({
      backend: { kind: 'redis', url: 'redis://127.0.0.1:6379', prefix: `kassa-test-${randomBytes(4).toString('hex')}` },
      retry: { attempts: 1, backoffMs: 10 },
      // Nothing listens there: every email job fails, and the list shows it to the email's organizer.
      smtpUrl: 'smtp://127.0.0.1:1',
    }),
  });
  (t.deps as { jobs?: unknown }).jobs = jobs;
  await jobs.start({ relay: false, schedulers: false });
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  const c = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
  // An operator of the instance is a user of some organizer (here a third one), flagged in app_user.
  const op = await createUser(t, c.organizer, { isAdmin: false });
  await t.db.dataSource.query('UPDATE app_user SET is_operator = true WHERE id = $1', [op.user.id]);
  operator = await login(t, op.email, op.password);
});
afterAll(async () => {
  await jobs.stop();
  await jobs.destroyBackend();
  await t.close();
});

describe('failed jobs across organizers', () => {
  let pluginA: string;
  let pluginB: string;
  let instancePlugin: string;
  let eventB: string;
  let maintenance: string;
  let maintenanceOfB: string;

  beforeAll(async () => {
    pluginA = await failedPluginJob(`a-${randomBytes(3).toString('hex')}`, a.organizer.id);
    pluginB = await failedPluginJob(`b-${randomBytes(3).toString('hex')}`, b.organizer.id);
    instancePlugin = await failedPluginJob(`i-${randomBytes(3).toString('hex')}`, null);
    // An event job of B's whose handler fails (an event of no order: delivered at once, not behind
    // the order's earlier events; the outbox row names the organizer).
    const [ev] = await t.db.dataSource.query(
      `INSERT INTO outbox_event (topic, organizer_id) VALUES ('test.fails', $1) RETURNING id::text AS id`, [b.organizer.id]);
    await jobs.queues.events.add('deliver-event', { eventId: ev.id, topic: 'test.fails', orderId: null }, { jobId: `event-${ev.id}` });
    await waitFor('the event job to fail', async () => (await failedIds('events')).includes(`event-${ev.id}`));
    eventB = `event-${ev.id}`;
    const m = await jobs.queues.maintenance.add('no-such-maintenance', {});
    await waitFor('the maintenance job to fail', async () => (await failedIds('maintenance')).includes(m.id!));
    maintenance = m.id!;
    // A maintenance job that names B's outbox event (as the delayed action-required check does) is
    // B's, whatever organizer its payload claims: the scope is read from the event's row.
    const mb = await jobs.queues.maintenance.add('no-such-maintenance', { eventId: ev.id, organizerId: a.organizer.id, orderId: null } as never);
    await waitFor('the event-naming maintenance job to fail', async () => (await failedIds('maintenance')).includes(mb.id!));
    maintenanceOfB = mb.id!;
  });

  it("shows a maintenance job that names an organizer's event to that organizer only", async () => {
    const pageA = (await getPage(t, browserA, '/control/jobs')).body;
    const pageB = (await getPage(t, browserB, '/control/jobs')).body;
    expect(pageB).toContain(retryUrl('maintenance', maintenanceOfB));
    expect(pageB).not.toContain(retryUrl('maintenance', maintenance));
    expect(pageA).not.toContain(retryUrl('maintenance', maintenanceOfB));
  });

  it("shows an organizer admin its own failed jobs only: never another organizer's, never the instance's", async () => {
    const pageA = (await getPage(t, browserA, '/control/jobs')).body;
    expect(pageA).toContain(retryUrl('plugins', pluginA));
    for (const foreign of [retryUrl('plugins', pluginB), retryUrl('plugins', instancePlugin), retryUrl('events', eventB), retryUrl('maintenance', maintenance)]) {
      expect(pageA).not.toContain(foreign);
    }
    expect(pageA).not.toContain('no-such-maintenance');
    expect(pageA).not.toContain(`organizer ${b.organizer.id}`);

    const pageB = (await getPage(t, browserB, '/control/jobs')).body;
    expect(pageB).toContain(retryUrl('plugins', pluginB));
    expect(pageB).toContain(retryUrl('events', eventB));
    expect(pageB).toContain(`organizer ${b.organizer.id} failed`);
    for (const foreign of [retryUrl('plugins', pluginA), retryUrl('plugins', instancePlugin), retryUrl('maintenance', maintenance)]) expect(pageB).not.toContain(foreign);
    // A's error text (with its account id) is nowhere on B's page.
    expect(pageB).not.toContain(pluginA.slice(pluginA.indexOf('--') + 2, pluginA.indexOf('@')));
  });

  it('shows the instance-wide jobs to an instance operator (and no organizer jobs outside its own)', async () => {
    const res = await getPage(t, operator, '/control/jobs');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(retryUrl('plugins', instancePlugin));
    expect(res.body).toContain(retryUrl('maintenance', maintenance));
    for (const foreign of [retryUrl('plugins', pluginA), retryUrl('plugins', pluginB), retryUrl('events', eventB)]) expect(res.body).not.toContain(foreign);
    expect(res.body).toContain('href="/control/jobs"');
  });

  it("answers 404 to another organizer's job id and to an instance job for a non-operator, changing nothing", async () => {
    for (const [queue, id] of [['plugins', pluginB], ['events', eventB], ['plugins', instancePlugin], ['maintenance', maintenance]] as const) {
      const res = await postForm(t, browserA, retryUrl(queue, id));
      expect([queue, id, res.statusCode]).toEqual([queue, id, 404]);
      expect(await (await jobs.queues[queue].getJob(id))!.getState()).toBe('failed');
    }
    expect((await postForm(t, operator, retryUrl('plugins', pluginA))).statusCode).toBe(404);
    expect((await postForm(t, browserA, retryUrl('plugins', 'acme--no-such-job'))).statusCode).toBe(404);
    expect((await postForm(t, browserA, retryUrl('nope', pluginA))).statusCode).toBe(400);
  });

  it('refuses a retry without the CSRF token', async () => {
    const res = await postForm(t, browserA, retryUrl('plugins', pluginA), {}, { csrf: null });
    expect(res.statusCode).toBe(403);
    expect(await (await jobs.queues.plugins.getJob(pluginA))!.getState()).toBe('failed');
  });

  it("retries an organizer's plugin job and an operator's instance job: each runs again and completes", async () => {
    for (const [browser, id] of [[browserA, pluginA], [operator, instancePlugin]] as const) {
      const job = (await jobs.queues.plugins.getJob(id))!;
      const key = (job.data as { payload: { key: string } }).payload.key;
      failing.delete(key);
      const before = runs.filter((r) => r === key).length;
      const res = await postForm(t, browser, retryUrl('plugins', id));
      expect(res.statusCode).toBe(303);
      await waitFor(`job ${id} to complete`, async () => (await (await jobs.queues.plugins.getJob(id))!.getState()) === 'completed');
      expect(runs.filter((r) => r === key).length).toBe(before + 1);
      // Retrying a job that is no longer failed is refused, not queued twice.
      expect((await postForm(t, browser, retryUrl('plugins', id))).statusCode).toBe(409);
    }
    expect((await getPage(t, browserA, '/control/jobs')).body).not.toContain(retryUrl('plugins', pluginA));
  });

  // The queues added since: exports and the shredder (tasks), organizer webhooks, and emails. Each
  // job carries its organizer (tasks, webhooks: set by the host when enqueued) or is read from its
  // row (emails), and the page shows it to that organizer only.
  it('shows a failed export, webhook delivery and email to their organizer only', async () => {
    const failedOn = async (queue: QueueKey, id: string) => {
      await waitFor(`${queue} job ${id} to fail`, async () => (await failedIds(queue)).includes(id));
      return retryUrl(queue, id);
    };
    const task = randomBytes(4).toString('hex');
    await jobs.enqueueHostJob('export', { taskId: task }, { jobId: `export-${task}`, organizerId: b.organizer.id });
    const exportOfB = await failedOn('tasks', `host-export-export-${task}`);
    // A delivery job whose row cannot be read fails (its organizer was copied onto it when enqueued).
    await jobs.queues.webhooks.add('deliver-webhook', { deliveryId: 'not-a-uuid', organizerId: b.organizer.id }, { jobId: `webhook-${task}` });
    const webhookOfB = await failedOn('webhooks', `webhook-${task}`);
    const [email] = await t.db.dataSource.query(
      `INSERT INTO email_message (dedup_key, organizer_id, template, locale, recipient, subject, body_text, body_html, message_id, transport)
       VALUES ($1, $2, 'test', 'en', 'buyer@example.org', 'Your order', 'text', '<p>html</p>', $1, 'smtp') RETURNING id::text AS id`,
      [`jobs-page-${task}`, b.organizer.id]);
    await jobs.queues.emails.add('send-email', { emailId: email.id }, { jobId: `email-${email.id}` });
    const emailOfB = await failedOn('emails', `email-${email.id}`);

    const pageA = (await getPage(t, browserA, '/control/jobs')).body;
    const pageB = (await getPage(t, browserB, '/control/jobs')).body;
    for (const url of [exportOfB, webhookOfB, emailOfB]) {
      expect(pageB).toContain(url);
      expect(pageA).not.toContain(url);
      expect((await postForm(t, browserA, url)).statusCode).toBe(404);
    }
    expect(pageA).not.toContain(`export ${task} failed`);
  });

  it("shows an event that failed inside a job for several events as its own job, to its organizer only, and retries it", async () => {
    // Two of B's events relayed together in one job (as the relay does with several orders' heads):
    // each failing event goes on in a job of its own, which is what the page lists.
    const evs: { id: string }[] = await t.db.dataSource.query(
      `INSERT INTO outbox_event (topic, organizer_id) VALUES ('test.fails', $1), ('test.fails', $1) RETURNING id::text AS id`, [b.organizer.id]);
    const ids = evs.map((e) => e.id);
    await jobs.queues.events.add('deliver-events', { eventIds: ids }, { jobId: `events-${ids.join('-')}` });
    for (const id of ids) await waitFor(`event ${id} to fail alone`, async () => (await failedIds('events')).includes(`event-${id}`));
    expect(await failedIds('events')).not.toContain(`events-${ids.join('-')}`);

    const pageA = (await getPage(t, browserA, '/control/jobs')).body;
    const pageB = (await getPage(t, browserB, '/control/jobs')).body;
    for (const id of ids) {
      expect(pageB).toContain(retryUrl('events', `event-${id}`));
      expect(pageB).toContain(`handler test.fails failed on test.fails #${id}: handler for event ${id} of organizer ${b.organizer.id} failed`);
      expect(pageA).not.toContain(retryUrl('events', `event-${id}`));
      expect((await postForm(t, browserA, retryUrl('events', `event-${id}`))).statusCode).toBe(404);
    }
    // B retries one: it runs again (and fails again, its handler still throws), so it is back in the list.
    const job = (await jobs.queues.events.getJob(`event-${ids[0]}`))!;
    expect((await postForm(t, browserB, retryUrl('events', `event-${ids[0]}`))).statusCode).toBe(303);
    await waitFor('the retried event to fail again', async () => {
      const again = (await jobs.queues.events.getJob(job.id!))!;
      return (again.finishedOn ?? 0) > job.finishedOn! && (await again.getState()) === 'failed';
    });
  });

  it('keeps the page from organizer members who are neither admins nor operators', async () => {
    const member = await createUser(t, a.organizer, { isAdmin: false });
    const m = await login(t, member.email, member.password);
    expect((await getPage(t, m, '/control/jobs')).statusCode).toBe(404);
    expect((await postForm(t, m, retryUrl('plugins', pluginB))).statusCode).toBe(404);
  });
});
