import { randomBytes } from 'node:crypto';
import { EmailMessage } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { hashApiToken } from '../../src/auth/api-token';
import { createOrganizerFixture, createTestApp, getPage, login, postForm, type Browser, type OrganizerFixture, type TestApp } from '../infra/test-app';

let t: TestApp;
let jobs: JobsRuntime;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;
let emailA: EmailMessage;

beforeAll(async () => {
  // A real job runtime on Redis (own key prefix) whose SMTP server does not exist, so sending fails.
  t = await createTestApp();
  jobs = await createJobsRuntime({
    dataSource: t.db.dataSource, logger: silentLogger, clock: t.clock, withoutEmailHandlers: true,
    config: defineJobsConfig({
      backend: { kind: 'redis', url: 'redis://127.0.0.1:6379', prefix: `kassa-test-${randomBytes(4).toString('hex')}` },
      smtpUrl: 'smtp://127.0.0.1:9', retry: { attempts: 1, backoffMs: 10 },
    }),
  });
  // The app reads deps.jobs per request, so the runtime can be attached after the app was built.
  (t.deps as { jobs?: unknown }).jobs = jobs;
  await jobs.start({ relay: false, schedulers: false });
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
  emailA = await t.db.dataSource.getRepository(EmailMessage).save({
    dedupKey: `test-${randomBytes(4).toString('hex')}`, organizerId: a.organizer.id, orderId: null, template: 'order-placed', locale: 'en',
    recipient: 'buyer@example.test', subject: 'Your order ABC12', bodyText: 'Thank you for your order ABC12.', bodyHtml: '<p>Thank you</p>',
    messageId: `<${randomBytes(6).toString('hex')}@kassa.test>`, transport: 'smtp',
  } as Partial<EmailMessage>);
});
afterAll(async () => {
  await jobs.destroyBackend();
  await jobs.stop();
  await t.close();
});

describe('stored emails', () => {
  it("lists and shows the organizer's emails; another organizer gets 404", async () => {
    const list = await getPage(t, browserA, '/control/emails');
    expect(list.body).toContain('Your order ABC12');
    expect((await getPage(t, browserA, `/control/emails/${emailA.id}`)).body).toContain('Thank you for your order ABC12.');
    expect((await getPage(t, browserB, '/control/emails')).body).not.toContain('Your order ABC12');
    const foreign = await getPage(t, browserB, `/control/emails/${emailA.id}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).not.toContain('ABC12');
  });
});

describe('failed jobs', () => {
  it('lists a failed email job to its organizer only, and retries it; another organizer gets 404', async () => {
    await jobs.queues.emails.add('send-email', { emailId: emailA.id }, { jobId: `send-email-${emailA.id}` });
    let failed = await jobs.listFailedJobs();
    for (let i = 0; i < 100 && failed.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      failed = await jobs.listFailedJobs();
    }
    const job = failed.find((j) => (j.data as { emailId?: string }).emailId === emailA.id)!;
    expect(job).toBeDefined();
    const mine = await getPage(t, browserA, '/control/jobs');
    expect(mine.body).toContain(`/control/jobs/emails/${encodeURIComponent(job.id)}/retry`);
    expect((await getPage(t, browserB, '/control/jobs')).body).not.toContain(job.id);
    expect((await postForm(t, browserB, `/control/jobs/emails/${encodeURIComponent(job.id)}/retry`)).statusCode).toBe(404);
    expect((await postForm(t, browserA, `/control/jobs/emails/${encodeURIComponent(job.id)}/retry`, {}, { csrf: null })).statusCode).toBe(403);
    // The cause is gone (the email went out another way): the retried job now completes.
    await t.db.dataSource.query('UPDATE email_message SET sent_at = now() WHERE id = $1', [emailA.id]);
    const retried = await postForm(t, browserA, `/control/jobs/emails/${encodeURIComponent(job.id)}/retry`);
    expect(retried.statusCode).toBe(303);
    let state = '';
    for (let i = 0; i < 100 && state !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await (await jobs.queues.emails.getJob(job.id))!.getState();
    }
    expect(state).toBe('completed');
  });
});

describe('API tokens', () => {
  it('shows a new token once, stores only its hash, and revokes it; another organizer gets 404', async () => {
    const res = await postForm(t, browserA, '/control/api-tokens', { name: 'Accounting', can_view_orders: 'on', all_events: 'on' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const token = /id="new-token">(kassa_[\w-]+)</.exec(res.body)![1]!;
    const [row] = await t.db.dataSource.query("SELECT id, token_hash FROM api_token WHERE name = 'Accounting'");
    expect(row.token_hash).toBe(hashApiToken(token));
    expect((await getPage(t, browserA, '/control/api-tokens')).body).not.toContain(token);
    const api = () => t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: `Bearer ${token}` } });
    expect((await api()).statusCode).toBe(200);
    expect((await postForm(t, browserB, `/control/api-tokens/${row.id}/revoke`)).statusCode).toBe(404);
    expect((await api()).statusCode).toBe(200);
    expect((await postForm(t, browserA, `/control/api-tokens/${row.id}/revoke`, {}, { csrf: null })).statusCode).toBe(403);
    expect((await postForm(t, browserA, `/control/api-tokens/${row.id}/revoke`)).statusCode).toBe(303);
    expect((await api()).statusCode).toBe(401);
  });

  it('names the missing field of a malformed token form', async () => {
    const res = await postForm(t, browserA, '/control/api-tokens', {});
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('name');
  });
});

describe('dashboard', () => {
  it("shows the organizer's own numbers", async () => {
    const res = await getPage(t, browserA, '/control');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Dashboard');
    expect(res.body).toContain(a.organizer.name);
  });
});
