import {
  createOrganizerFixture, createTestApp, getPage, login, placeManualOrder, postForm,
  type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

/**
 * The shredder's confirmation form with its hidden fields altered on the way (the one-time form
 * key, the event or order): 400 with the page again and a message naming the field — never a 500,
 * never the "tick the box" message meant for the checkbox — and nothing started or removed. The
 * jobs are recorded, not run: what is asserted is that no task is stored and no data removed.
 */
let t: TestApp;
let a: OrganizerFixture;
let browser: Browser;
const enqueued: string[] = [];

beforeAll(async () => {
  t = await createTestApp({}, { enqueueHostJob: async (_name, payload) => { enqueued.push(String(payload.taskId)); } });
  a = await createOrganizerFixture(t);
  browser = await login(t, a.email, a.password);
});
afterAll(async () => { await t?.close(); });

const formKeyOf = (html: string) => /name="_formKey" value="([^"]+)"/.exec(html)![1]!;
const taskCount = async () => (await t.db.dataSource.query('SELECT count(*)::int AS n FROM bulk_task'))[0].n as number;
const emailOf = async (orderId: string) => (await t.db.dataSource.query('SELECT email FROM kassa_order WHERE id = $1', [orderId]))[0].email as string;
const keyProblem = "The form's one-time key (_formKey) is not the one this page sent: reload the page and confirm again";

it('a malformed _formKey (too short, foreign characters, too long) is refused naming the field; nothing started', async () => {
  const { order } = await placeManualOrder(t, a, 'tampered@example.test');
  await getPage(t, browser, `/control/shredder?orderId=${order.id}`);
  const before = await taskCount();
  for (const key of ['short', 'a'.repeat(20) + '"><b>', 'k'.repeat(65)]) {
    const res = await postForm(t, browser, '/control/shredder', { orderId: order.id, confirm: 'yes', _formKey: key });
    expect([key, res.statusCode]).toEqual([key, 400]);
    expect(res.body).toContain(keyProblem.replace("'", '&#39;'));
    expect(res.body).not.toContain('Tick the box');
    // The page again, with the order's preview and a fresh key to confirm with.
    expect(res.body).toContain(order.code);
    expect(formKeyOf(res.body)).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
  }
  expect(await taskCount()).toBe(before);
  expect(await emailOf(order.id)).toBe('tampered@example.test');
});

it('a key already used for one order, sent to shred another, starts nothing and names the field', async () => {
  const { order: first } = await placeManualOrder(t, a, 'first@example.test');
  const { order: second } = await placeManualOrder(t, a, 'second@example.test');
  const key = formKeyOf((await getPage(t, browser, `/control/shredder?orderId=${first.id}`)).body);
  const started = await postForm(t, browser, '/control/shredder', { orderId: first.id, confirm: 'yes', _formKey: key });
  expect(started.statusCode).toBe(303);
  const before = await taskCount();
  const reused = await postForm(t, browser, '/control/shredder', { orderId: second.id, confirm: 'yes', _formKey: key });
  expect(reused.statusCode).toBe(400);
  expect(reused.body).toContain(keyProblem.replace("'", '&#39;'));
  expect(await taskCount()).toBe(before);
  expect(enqueued).toHaveLength(1);
  expect(await emailOf(second.id)).toBe('second@example.test');
  // The same form sent again (a double click) still answers the first shred.
  const again = await postForm(t, browser, '/control/shredder', { orderId: first.id, confirm: 'yes', _formKey: key });
  expect([again.statusCode, again.headers.location]).toEqual([303, started.headers.location]);
});

it('an altered event id is refused naming eventId; the unticked box still asks to tick it', async () => {
  const key = formKeyOf((await getPage(t, browser, `/control/shredder?eventId=${a.event.id}`)).body);
  const before = await taskCount();
  const bad = await postForm(t, browser, '/control/shredder', { eventId: 'not-an-event', confirm: 'yes', _formKey: key });
  expect(bad.statusCode).toBe(400);
  expect(bad.body).toContain('The event (eventId) is not one the page offered');
  const unticked = await postForm(t, browser, '/control/shredder', { eventId: a.event.id, _formKey: key });
  expect(unticked.statusCode).toBe(400);
  expect(unticked.body).toContain('Tick the box to confirm');
  expect(unticked.body).not.toContain('field-error" role="alert" id="shred-form-error"');
  expect(await taskCount()).toBe(before);
});
