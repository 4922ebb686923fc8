import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { ScriptedProvider } from '@kassa/testing';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { bulkTaskJobs, exportFilePurgeTask } from '../../src/bulk/bulk-jobs';
import {
  createOrganizerFixture, createTestApp, createUser, getPage, login, placeManualOrder, postForm,
  type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

/**
 * Exports and the data shredder over HTTP (control panel and API) with the real jobs runtime on
 * Redis: organizer scoping (404 across organizers and for non-admins on the shredder), CSRF on
 * every form, bad input answered 400 naming the field, export content, and a shred that removes
 * personal data while amounts, states and provider references stay.
 */
let t: TestApp;
let jobs: JobsRuntime;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;
let memberA: Browser;
/** A's CSV export (made before the shredder runs, so the shredder removes its file). */
let csvTask: string;
const scripted = new ScriptedProvider({ identifier: 'scripted' });

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const taskIdOf = (location: string | undefined): string => /\/([0-9a-f-]{36})$/.exec(String(location))![1]!;
const api = (token: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) }, payload: payload ? JSON.stringify(payload) : undefined });

async function finished(b: Browser, id: string): Promise<void> {
  await waitFor(`task ${id}`, async () => {
    const res = await getPage(t, b, `/control/tasks/${id}/status`);
    const status = (res.json() as { status: string }).status;
    if (status === 'error') throw new Error(`task ${id} failed: ${res.body}`);
    return status === 'finished';
  });
}

async function taskCount(): Promise<number> {
  const [row] = await t.db.dataSource.query('SELECT count(*)::int AS n FROM bulk_task');
  return row.n;
}

beforeAll(async () => {
  t = await createTestApp({}, {}, [scripted]);
  jobs = await createJobsRuntime({
    dataSource: t.db.dataSource, logger: silentLogger, clock: t.clock, withoutEmailHandlers: true,
    hostJobs: bulkTaskJobs({ dataSource: t.db.dataSource, core: t.core, providers: t.deps.providers, clock: t.clock }),
    config: defineJobsConfig({
      backend: { kind: 'redis', url: 'redis://127.0.0.1:6379', prefix: `kassa-test-${randomBytes(4).toString('hex')}` },
      retry: { attempts: 1, backoffMs: 10 },
    }),
  });
  (t.deps as { enqueueHostJob?: unknown }).enqueueHostJob = jobs.enqueueHostJob;
  await jobs.start({ relay: false, schedulers: false });
  a = await createOrganizerFixture(t, { price: 2500 });
  b = await createOrganizerFixture(t, { price: 1000 });
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
  const member = await createUser(t, a.organizer, { isAdmin: false });
  memberA = await login(t, member.email, member.password);
});

afterAll(async () => {
  await jobs?.stop();
  await jobs?.destroyBackend();
  await t?.close();
});

describe('exports', () => {
  let paidCode: string;
  let pendingCode: string;

  beforeAll(async () => {
    const paid = await placeManualOrder(t, a, 'paid@example.test');
    await t.core.payments.manualConfirm(paid.payment.id, { actor: { type: 'system' } });
    paidCode = paid.order.code;
    pendingCode = (await placeManualOrder(t, a, 'pending@example.test')).order.code;
    await placeManualOrder(t, b, 'other-organizer@example.test');
  });

  it('exports the organizer\'s orders of an event as CSV through the control panel, with progress and download', async () => {
    const res = await postForm(t, browserA, '/control/exports', { dataset: 'orders', format: 'csv', eventId: a.event.id });
    expect(res.statusCode).toBe(303);
    csvTask = taskIdOf(res.headers.location as string);
    const page = await getPage(t, browserA, `/control/exports/${csvTask}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<progress id="task-progress"');
    expect(page.body).toContain('/static/kassa-progress.js');
    await finished(browserA, csvTask);
    const status = (await getPage(t, browserA, `/control/tasks/${csvTask}/status`)).json() as { done: number; total: number; file: { url: string } };
    expect(status).toMatchObject({ done: 2, total: 2, file: { url: `/control/exports/${csvTask}/download` } });

    const file = await getPage(t, browserA, `/control/exports/${csvTask}/download`);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(file.headers['content-disposition']).toMatch(/^attachment; filename="orders-[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = file.body.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    const byCode = new Map(lines.slice(1).map((l) => [l.split(',')[0], l.split(',')]));
    // Order code, event, date, status, email, currency, total, fees, paid, refunded, open, methods
    expect(byCode.get(paidCode)!.slice(3, 12)).toEqual(['paid', 'paid@example.test', 'EUR', '25.00', '0.00', '25.00', '0.00', '0.00', 'manual']);
    expect(byCode.get(pendingCode)!.slice(3, 12)).toEqual(['pending', 'pending@example.test', 'EUR', '25.00', '0.00', '0.00', '0.00', '25.00', '']);
    expect(file.body).not.toContain('other-organizer@example.test');
  });

  it('lists the export on the exports page with its download link', async () => {
    const page = await getPage(t, browserA, '/control/exports');
    expect(page.body).toContain(`/control/exports/${csvTask}/download`);
    expect((await getPage(t, browserB, '/control/exports')).body).not.toContain(csvTask);
  });

  it("answers 404 for another organizer's export, its status and its file", async () => {
    for (const url of [`/control/exports/${csvTask}`, `/control/exports/${csvTask}/download`, `/control/tasks/${csvTask}/status`]) {
      const res = await getPage(t, browserB, url);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('paid@example.test');
    }
    expect((await api(b.token, 'GET', `/api/v1/tasks/${csvTask}`)).statusCode).toBe(404);
    expect((await api(b.token, 'GET', `/api/v1/exports/${csvTask}/download`)).statusCode).toBe(404);
  });

  it('refuses an export without a valid CSRF token and starts nothing', async () => {
    const before = await taskCount();
    for (const csrf of [null, 'forged']) {
      const res = await postForm(t, browserA, '/control/exports', { dataset: 'orders', format: 'csv', eventId: '' }, { csrf });
      expect(res.statusCode).toBe(403);
    }
    expect(await taskCount()).toBe(before);
  });

  it("refuses another organizer's event and bad input with 400 naming the field, starting nothing", async () => {
    const before = await taskCount();
    const foreign = await postForm(t, browserA, '/control/exports', { dataset: 'orders', format: 'csv', eventId: b.event.id });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.body).toContain('is not one of your events');
    const bad = await postForm(t, browserA, '/control/exports', { dataset: 'customers', format: 'pdf', eventId: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/What: |Format: |Event: /);
    const apiForeign = await api(a.token, 'POST', '/api/v1/exports', { dataset: 'orders', format: 'csv', eventId: b.event.id });
    expect(apiForeign.statusCode).toBe(404);
    const apiNotUuid = await api(a.token, 'POST', '/api/v1/exports', { dataset: 'orders', format: 'csv', eventId: 'abc' });
    expect(apiNotUuid.statusCode).toBe(400);
    expect(apiNotUuid.body).toContain('eventId');
    const apiBad = await api(a.token, 'POST', '/api/v1/exports', { dataset: 'orders', format: 'pdf' });
    expect(apiBad.statusCode).toBe(400);
    expect(apiBad.body).toContain('format');
    expect(await taskCount()).toBe(before);
  });

  it('answers 409 for the file of an export that has not finished', async () => {
    const [row] = await t.db.dataSource.query(
      `INSERT INTO bulk_task (organizer_id, kind, params, actor_type) VALUES ($1, 'export', '{"dataset":"orders","format":"csv","eventId":null,"eventSlug":null}', 'system') RETURNING id`, [a.organizer.id]);
    const res = await getPage(t, browserA, `/control/exports/${row.id}/download`);
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('queued');
  });

  it('exports all payments of the organizer as xlsx through the API', async () => {
    const start = await api(a.token, 'POST', '/api/v1/exports', { dataset: 'payments', format: 'xlsx', eventId: null });
    expect(start.statusCode).toBe(202);
    const id = (start.json() as { task: { id: string } }).task.id;
    let task: { status: string; file: { url: string } | null } = { status: 'queued', file: null };
    await waitFor('the API export', async () => {
      task = ((await api(a.token, 'GET', `/api/v1/tasks/${id}`)).json() as { task: typeof task }).task;
      return task.status === 'finished';
    });
    expect(task.file!.url).toBe(`/api/v1/exports/${id}/download`);
    const file = await api(a.token, 'GET', task.file!.url);
    expect(file.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.read(Readable.from(file.rawPayload));
    const rows = wb.worksheets[0]!.getSheetValues().filter(Boolean).map((r) => (r as unknown[]).slice(1));
    expect(rows[0]).toEqual(['Order code', 'Event', 'Payment', 'Created', 'Payment date', 'Payment method', 'State', 'Currency', 'Amount', 'Refunded', 'Provider reference', 'Email']);
    expect(rows).toHaveLength(3);
    const paid = rows.find((r) => r[0] === paidCode)!;
    expect([paid[2], paid[5], paid[6], paid[7], paid[8], paid[9]]).toEqual([`${paidCode}-P-1`, 'manual', 'confirmed', 'EUR', '25.00', '0.00']);
  });
});

describe('data shredder', () => {
  let order: { id: string; code: string };
  let paymentId: string;

  beforeAll(async () => {
    const placed = await placeManualOrder(t, a, 'shred-me@example.test');
    order = placed.order;
    // A second payment through a provider that keeps its gateway reference when shredded.
    const [p] = await t.db.dataSource.query(
      `INSERT INTO order_payment (order_id, local_id, state, amount, currency, provider, info)
       VALUES ($1, 2, 'confirmed', 700, 'EUR', 'scripted', '{"reference":"gw-123","cardholder":"Jane Buyer"}') RETURNING id`, [order.id]);
    paymentId = p.id;
    await t.db.dataSource.query('UPDATE order_position SET attendee_name = $2 WHERE order_id = $1', [order.id, 'Jane Attendee']);
  });

  it('is not there for members who are not admins, nor for another organizer', async () => {
    expect((await getPage(t, memberA, '/control/shredder')).statusCode).toBe(404);
    expect((await getPage(t, memberA, `/control/shredder?orderId=${order.id}`)).statusCode).toBe(404);
    expect((await postForm(t, memberA, '/control/shredder', { orderId: order.id, confirm: 'yes' })).statusCode).toBe(404);
    expect((await getPage(t, browserB, `/control/shredder?orderId=${order.id}`)).statusCode).toBe(404);
    expect((await postForm(t, browserB, '/control/shredder', { orderId: order.id, confirm: 'yes' })).statusCode).toBe(404);
    expect((await api(b.token, 'GET', `/api/v1/shredder/preview?orderId=${order.id}`)).statusCode).toBe(404);
    expect((await api(b.token, 'POST', '/api/v1/shredder', { orderId: order.id, confirm: true })).statusCode).toBe(404);
    const [row] = await t.db.dataSource.query('SELECT email FROM kassa_order WHERE id = $1', [order.id]);
    expect(row.email).toBe('shred-me@example.test');
  });

  it('previews what would be removed', async () => {
    // The order page links admins to it; members see no link.
    expect((await getPage(t, browserA, `/control/orders/${order.id}`)).body).toContain(`href="/control/shredder?orderId=${order.id}" id="shred-order"`);
    expect((await getPage(t, memberA, `/control/orders/${order.id}`)).body).not.toContain('id="shred-order"');
    const page = await getPage(t, browserA, `/control/shredder?orderId=${order.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(order.code);
    const preview = await api(a.token, 'GET', `/api/v1/shredder/preview?orderId=${order.id}`);
    expect(preview.json()).toEqual({ orders: 1, emails: 1, attendeeNames: 1, payments: 2, refunds: 0, alreadyShredded: 0 });
  });

  it('removes nothing without the confirmation or without a valid CSRF token', async () => {
    const unconfirmed = await postForm(t, browserA, '/control/shredder', { orderId: order.id });
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.body).toContain('Tick the box to confirm');
    for (const csrf of [null, 'forged']) {
      expect((await postForm(t, browserA, '/control/shredder', { orderId: order.id, confirm: 'yes' }, { csrf })).statusCode).toBe(403);
    }
    const apiUnconfirmed = await api(a.token, 'POST', '/api/v1/shredder', { orderId: order.id, confirm: false });
    expect(apiUnconfirmed.statusCode).toBe(400);
    expect(apiUnconfirmed.body).toContain('confirm');
    const [row] = await t.db.dataSource.query('SELECT email FROM kassa_order WHERE id = $1', [order.id]);
    expect(row.email).toBe('shred-me@example.test');
  });

  it('shreds the order after confirmation: personal data gone, money, states and references kept, the log says who', async () => {
    const [before] = await t.db.dataSource.query('SELECT total, status FROM kassa_order WHERE id = $1', [order.id]);
    const res = await postForm(t, browserA, '/control/shredder', { orderId: order.id, confirm: 'yes' });
    expect(res.statusCode).toBe(303);
    const id = taskIdOf(res.headers.location as string);
    await finished(browserA, id);
    const page = await getPage(t, browserA, `/control/shredder/${id}`);
    expect(page.body).toContain('Personal data removed from 1 orders');
    expect((await getPage(t, browserB, `/control/shredder/${id}`)).statusCode).toBe(404);

    const [after] = await t.db.dataSource.query('SELECT email, total, status, shredded_at FROM kassa_order WHERE id = $1', [order.id]);
    expect(after).toMatchObject({ email: null, total: before.total, status: before.status });
    expect(after.shredded_at).not.toBeNull();
    const [pos] = await t.db.dataSource.query('SELECT attendee_name FROM order_position WHERE order_id = $1', [order.id]);
    expect(pos.attendee_name).toBeNull();
    const [pay] = await t.db.dataSource.query('SELECT amount, state, info FROM order_payment WHERE id = $1', [paymentId]);
    expect(pay).toEqual({ amount: '700', state: 'confirmed', info: { reference: 'gw-123' } });
    const log = await t.db.dataSource.query(`SELECT actor_type, actor_id FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.shredded'`, [order.id]);
    const [user] = await t.db.dataSource.query('SELECT id FROM app_user WHERE email = $1', [a.email]);
    expect(log).toEqual([{ actor_type: 'user', actor_id: user.id }]);
    // An earlier export of the organizer may hold the removed data: its file is gone too.
    const gone = await getPage(t, browserA, `/control/exports/${csvTask}/download`);
    expect(gone.statusCode).toBe(410);
    expect(gone.body).toContain('removed by the data shredder');
    const [chunks] = await t.db.dataSource.query('SELECT count(*)::int AS n FROM bulk_task_chunk WHERE task_id = $1', [csvTask]);
    expect(chunks.n).toBe(0);
  });

  it("shreds a whole event through the API and leaves other organizers' orders alone", async () => {
    await placeManualOrder(t, a, 'event-one@example.test');
    await placeManualOrder(t, a, 'event-two@example.test');
    const start = await api(a.token, 'POST', '/api/v1/shredder', { eventId: a.event.id, confirm: true });
    expect(start.statusCode).toBe(202);
    const id = (start.json() as { task: { id: string } }).task.id;
    await waitFor('the event shred', async () => ((await api(a.token, 'GET', `/api/v1/tasks/${id}`)).json() as { task: { status: string } }).task.status === 'finished');
    const [left] = await t.db.dataSource.query('SELECT count(*)::int AS n FROM kassa_order WHERE event_id = $1 AND (email IS NOT NULL OR shredded_at IS NULL)', [a.event.id]);
    expect(left.n).toBe(0);
    const [others] = await t.db.dataSource.query('SELECT count(*)::int AS n FROM kassa_order WHERE organizer_id = $1 AND email IS NOT NULL', [b.organizer.id]);
    expect(others.n).toBeGreaterThan(0);
    const [tok] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM log_entry WHERE event_id = $1 AND action = 'kassa.order.shredded' AND actor_type = 'api_token'`, [a.event.id]);
    expect(tok.n).toBeGreaterThanOrEqual(2);
    const preview = await api(a.token, 'GET', `/api/v1/shredder/preview?eventId=${a.event.id}`);
    expect((preview.json() as { orders: number }).orders).toBe(0);

    // One entry in the event's own log: who, when, how many orders (besides each order's entry).
    const task = (await api(a.token, 'GET', `/api/v1/tasks/${id}`)).json() as { task: { done: number } };
    const own = await t.db.dataSource.query(`SELECT actor_type, data FROM log_entry WHERE event_id = $1 AND order_id IS NULL AND action = 'kassa.event.shredded'`, [a.event.id]);
    expect(own).toEqual([{ actor_type: 'api_token', data: { orders: task.task.done, taskId: id } }]);
    expect(task.task.done).toBeGreaterThanOrEqual(2);
    const log = await api(a.token, 'GET', `/api/v1/events/${a.event.id}/log`);
    expect(log.statusCode).toBe(200);
    const [entry] = (log.json() as { results: { action: string; sentence: string; createdAt: string }[] }).results.filter((e) => e.action === 'kassa.event.shredded');
    expect(entry!.sentence).toBe(`Personal data of ${task.task.done} orders of this event removed by API token “test”`);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/events/${a.event.id}/log?locale=de`, headers: { authorization: `Bearer ${a.token}` } })).json().results[0].sentence)
      .toBe(`Personenbezogene Daten von ${task.task.done} Bestellungen dieser Veranstaltung entfernt von API-Token „test“`);
    expect((await api(b.token, 'GET', `/api/v1/events/${a.event.id}/log`)).statusCode).toBe(404);
    // The control panel shows it with the event in the shredder.
    const page = await getPage(t, browserA, `/control/shredder?eventId=${a.event.id}`);
    expect(page.body).toContain('id="event-log"');
    expect(page.body).toContain(`Personal data of ${task.task.done} orders of this event removed by API token “test”`);
  });
});

describe('double-clicked forms', () => {
  const formKeyOf = (html: string) => /name="_formKey" value="([^"]+)"/.exec(html)![1]!;

  it('an export form sent twice (also at once) starts one task, and both answers lead to it', async () => {
    const page = await getPage(t, browserA, '/control/exports');
    const key = formKeyOf(page.body);
    expect(formKeyOf((await getPage(t, browserA, '/control/exports')).body)).not.toBe(key);
    const before = await taskCount();
    const fields = { dataset: 'payments', format: 'csv', eventId: a.event.id, _formKey: key };
    const [one, two] = await Promise.all([postForm(t, browserA, '/control/exports', fields), postForm(t, browserA, '/control/exports', fields)]);
    const third = await postForm(t, browserA, '/control/exports', fields);
    expect([one.statusCode, two.statusCode, third.statusCode]).toEqual([303, 303, 303]);
    expect(new Set([one.headers.location, two.headers.location, third.headers.location]).size).toBe(1);
    expect(await taskCount()).toBe(before + 1);
    await finished(browserA, taskIdOf(one.headers.location as string));
    // A new page, a new key: a new export. Without a key (older pages, scripts) every submit is one.
    expect((await postForm(t, browserA, '/control/exports', { ...fields, _formKey: formKeyOf((await getPage(t, browserA, '/control/exports')).body) })).statusCode).toBe(303);
    expect(await taskCount()).toBe(before + 2);
    // Another organizer's admin with the same key starts their own task, never sees A's.
    const theirs = await postForm(t, browserB, '/control/exports', { dataset: 'payments', format: 'csv', eventId: '', _formKey: key });
    expect(theirs.statusCode).toBe(303);
    expect(theirs.headers.location).not.toBe(one.headers.location);
    expect(await taskCount()).toBe(before + 3);
    // A malformed key is bad input, named.
    const bad = await postForm(t, browserA, '/control/exports', { ...fields, _formKey: 'short' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('_formKey');
  });

  it('a shredder confirmation sent twice starts one shred', async () => {
    const { order } = await placeManualOrder(t, a, 'double-shred@example.test');
    const page = await getPage(t, browserA, `/control/shredder?orderId=${order.id}`);
    const key = formKeyOf(page.body);
    const before = await taskCount();
    const fields = { orderId: order.id, confirm: 'yes', _formKey: key };
    const [one, two] = await Promise.all([postForm(t, browserA, '/control/shredder', fields), postForm(t, browserA, '/control/shredder', fields)]);
    expect([one.statusCode, two.statusCode]).toEqual([303, 303]);
    expect(two.headers.location).toBe(one.headers.location);
    expect(await taskCount()).toBe(before + 1);
    await finished(browserA, taskIdOf(one.headers.location as string));
    const log = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.shredded'`, [order.id]);
    expect(log[0].n).toBe(1);
    // The export form's key cannot start a shred: 400 naming it, nothing started.
    const exportKey = formKeyOf((await getPage(t, browserA, '/control/exports')).body);
    expect((await postForm(t, browserA, '/control/exports', { dataset: 'orders', format: 'csv', eventId: '', _formKey: exportKey })).statusCode).toBe(303);
    const { order: other } = await placeManualOrder(t, a, 'other-shred@example.test');
    const mixed = await postForm(t, browserA, '/control/shredder', { orderId: other.id, confirm: 'yes', _formKey: exportKey });
    expect(mixed.statusCode).toBe(400);
    expect((await t.db.dataSource.query('SELECT email FROM kassa_order WHERE id = $1', [other.id]))[0].email).toBe('other-shred@example.test');
  });
});

describe('export files', () => {
  it('are removed after a week by the maintenance task, not before', async () => {
    const res = await postForm(t, browserB, '/control/exports', { dataset: 'refunds', format: 'csv', eventId: '' });
    const id = taskIdOf(res.headers.location as string);
    await finished(browserB, id);
    const purge = exportFilePurgeTask(t.db.dataSource);
    const at = (days: number) => ({ now: new Date(t.clock.now().getTime() + days * 86_400_000), logger: silentLogger });
    expect(await purge.run(at(6))).toEqual({ removed: 0 });
    expect((await getPage(t, browserB, `/control/exports/${id}/download`)).statusCode).toBe(200);
    expect(await purge.run(at(8))).toMatchObject({ removed: expect.any(Number) });
    expect((await getPage(t, browserB, `/control/exports/${id}/download`)).statusCode).toBe(410);
    expect((await getPage(t, browserB, `/control/exports/${id}`)).body).toContain('id="task-removed"');
  });
});

describe('dashboard data', () => {
  it("serves an event's chart to its organizer only, in the control panel and the API", async () => {
    const own = await getPage(t, browserA, `/control/events/${a.event.id}/chart.json`);
    expect(own.statusCode).toBe(200);
    const chart = own.json() as { currency: string; days: { paidOrders: number; pendingOrders: number; revenue: number }[] };
    expect(chart.currency).toBe('EUR');
    const sum = (k: 'paidOrders' | 'pendingOrders' | 'revenue') => chart.days.reduce((s, d) => s + d[k], 0);
    const [counts] = await t.db.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'paid')::int AS paid, count(*) FILTER (WHERE status = 'pending')::int AS pending FROM kassa_order WHERE event_id = $1`, [a.event.id]);
    expect(sum('paidOrders')).toBe(counts.paid);
    expect(sum('pendingOrders')).toBe(counts.pending);
    expect(sum('revenue')).toBe(2500 + 700);
    expect((await getPage(t, browserB, `/control/events/${a.event.id}/chart.json`)).statusCode).toBe(404);
    expect((await api(a.token, 'GET', `/api/v1/events/${a.event.id}/chart`)).json()).toEqual(chart);
    expect((await api(b.token, 'GET', `/api/v1/events/${a.event.id}/chart`)).statusCode).toBe(404);
    expect((await getPage(t, browserB, `/control?eventId=${a.event.id}`)).statusCode).toBe(404);
  });

  it('shows the figures to act on, per organizer', async () => {
    const figures = (await api(b.token, 'GET', '/api/v1/dashboard')).json() as { openAmount: unknown; overpaidOrders: number; failedInstalments: unknown };
    expect(figures).toEqual({ openAmount: [{ currency: 'EUR', amount: 1000 }], overpaidOrders: 0, refundsWaiting: 0, externalRefundsWaiting: 0, failedInstalments: 0 });
    const page = await getPage(t, browserB, '/control');
    expect(page.body).toMatch(/id="fig-open">[^<]*10\.00/);
    expect(page.body).toContain('id="order-chart"');
    expect(page.body).toContain('id="chart-table"');
  });
});
