import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import ExcelJS from 'exceljs';
import { BulkTaskStore } from '../../src/bulk/bulk-task.store';
import { runExport, type ExportParams } from '../../src/bulk/export-runner';
import { createOrganizerFixture, createTestApp, type OrganizerFixture, type TestApp } from '../infra/test-app';

/**
 * Exports of 100,000 orders (each with a confirmed payment) run a page of 500 orders at a time into
 * the stored file in bounded memory: the heap grows by far less than the file (or the rows as
 * objects) would take. Memory is measured, never time. The content is checked too.
 */
const ORDERS = 100_000;
let t: TestApp;
let f: OrganizerFixture;
let store: BulkTaskStore;

beforeAll(async () => {
  t = await createTestApp();
  f = await createOrganizerFixture(t);
  store = new BulkTaskStore(t.db.dataSource);
  // Generated in SQL: 100,000 paid orders of 25.00 EUR, each with one confirmed payment; order 7 has a formula-like e-mail.
  await t.db.dataSource.query(`
    INSERT INTO kassa_order (organizer_id, event_id, code, secret, email, total, currency, status, expires, created_at)
    SELECT $1, $2, 'B' || lpad(i::text, 6, '0'), md5(random()::text || i), CASE WHEN i = 7 THEN '=HYPERLINK("x")@example.test' ELSE 'buyer' || i || '@example.test' END,
           2500, 'EUR', 'paid', now() + interval '14 days', timestamp '2026-01-01' + i * interval '1 second'
      FROM generate_series(1, ${ORDERS}) i`, [f.organizer.id, f.event.id]);
  await t.db.dataSource.query(`
    INSERT INTO order_payment (order_id, local_id, state, amount, currency, provider, info, payment_date)
    SELECT o.id, 1, 'confirmed', 2500, 'EUR', 'manual', '{}'::jsonb, o.created_at FROM kassa_order o WHERE o.event_id = $1`, [f.event.id]);
}, 600_000);

afterAll(async () => {
  await t?.close();
});

// A full collection before each sample measures what the export keeps, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** What the process holds after a full collection: the heap plus Buffers (file chunks live outside the heap). */
const retained = (): { heap: number; rss: number } => {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
};

/** Runs the export while sampling retained memory; returns the task and the peak growth over the start. */
async function exportMeasured(params: ExportParams): Promise<{ taskId: string; heapGrowth: number; rssGrowth: number; cpuMsPer1000: number }> {
  const { task } = await store.create(f.organizer.id, 'export', params as unknown as Record<string, unknown>, { type: 'user', id: null }, t.clock.now());
  const start = retained();
  const cpu = process.cpuUsage();
  let peakHeap = start.heap;
  let peakRss = start.rss;
  const sampler = setInterval(() => {
    const m = retained();
    peakHeap = Math.max(peakHeap, m.heap);
    peakRss = Math.max(peakRss, m.rss);
    // A full collection of a large heap is costly: a sample every few seconds still sees a growth
    // proportional to the rows (the export runs for many seconds), at a fraction of the cost.
  }, 3000);
  try {
    const done = await runExport({ dataSource: t.db.dataSource, providers: t.deps.providers, clock: t.clock, store, batchSize: 500 }, task.id);
    expect(done?.status).toBe('finished');
    expect(done?.done).toBe(ORDERS);
    expect(done?.total).toBe(ORDERS);
  } finally {
    clearInterval(sampler);
  }
  const used = process.cpuUsage(cpu);
  const end = retained();
  // This process's CPU (the database's is not included), per 1,000 rows: a figure to report, never asserted.
  const cpuMsPer1000 = (used.user + used.system) / 1000 / (ORDERS / 1000);
  return { taskId: task.id, cpuMsPer1000, heapGrowth: Math.max(peakHeap, end.heap) - start.heap, rssGrowth: Math.max(peakRss, end.rss) - start.rss };
}

async function fileOf(taskId: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of store.fileStream(taskId) as Readable) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const MB = 1024 * 1024;

it('exports 100,000 orders as CSV in bounded memory, every order once, money as decimal text', async () => {
  const { taskId, heapGrowth, rssGrowth, cpuMsPer1000 } = await exportMeasured({ dataset: 'orders', format: 'csv', eventId: f.event.id, eventSlug: f.event.slug });
  const file = await fileOf(taskId);
  // 100,000 rows held as objects (17 strings each), or the file plus its rows, would need several
  // times this bound; a batch at a time needs a small part of it.
  expect(file.length).toBeGreaterThan(14 * MB);
  expect(heapGrowth).toBeLessThan(48 * MB);
  console.log(`orders csv: ${(file.length / MB).toFixed(1)} MB file, retained heap+buffers growth ${(heapGrowth / MB).toFixed(1)} MB, rss growth ${(rssGrowth / MB).toFixed(1)} MB, CPU ${cpuMsPer1000.toFixed(1)} ms per 1,000 rows (machine shared with other tests)`);
  const text = file.toString('utf8');
  expect(text.charCodeAt(0)).toBe(0xfeff);
  const lines = text.slice(1).split('\r\n').filter(Boolean);
  expect(lines).toHaveLength(ORDERS + 1);
  expect(lines[0]).toBe('Order code,Event,Order date,Status,Email,Currency,Total,Fees,Paid,Refunded,Open,Payment methods,Payment date,Expires,Canceled,Test mode,Shredded');
  expect(lines[1]).toMatch(/^B000001,[a-z0-9-]+,2026-01-01T00:00:01Z,paid,buyer1@example\.test,EUR,25\.00,0\.00,25\.00,0\.00,0\.00,manual,2026-01-01T00:00:01Z,/);
  // A formula-like e-mail is quoted so a spreadsheet shows it as text.
  expect(lines[7]).toContain(`"'=HYPERLINK(""x"")@example.test"`);
  expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(ORDERS);
}, 600_000);

it('exports 100,000 payments as an xlsx workbook in bounded memory', async () => {
  const { taskId, heapGrowth, rssGrowth, cpuMsPer1000 } = await exportMeasured({ dataset: 'payments', format: 'xlsx', eventId: null, eventSlug: null });
  const file = await fileOf(taskId);
  console.log(`payments xlsx: ${(file.length / MB).toFixed(1)} MB file, retained heap+buffers growth ${(heapGrowth / MB).toFixed(1)} MB, rss growth ${(rssGrowth / MB).toFixed(1)} MB, CPU ${cpuMsPer1000.toFixed(1)} ms per 1,000 rows (machine shared with other tests)`);
  expect(heapGrowth).toBeLessThan(64 * MB);
  // Read back with exceljs' streaming reader: every payment row, amounts as text.
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(file), { sharedStrings: 'ignore', worksheets: 'emit' } as never);
  let rows = 0;
  let first: unknown[] = [];
  let header: unknown[] = [];
  for await (const sheet of reader) {
    for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
      rows += 1;
      if (rows === 1) header = (row.values as unknown[]).slice(1);
      if (rows === 2) first = (row.values as unknown[]).slice(1);
    }
  }
  expect(rows).toBe(ORDERS + 1);
  expect(header).toEqual(['Order code', 'Event', 'Payment', 'Created', 'Payment date', 'Payment method', 'State', 'Currency', 'Amount', 'Refunded', 'Provider reference', 'Email']);
  expect(first.slice(0, 3)).toEqual(['B000001', f.event.slug, 'B000001-P-1']);
  expect(first.slice(5, 10)).toEqual(['manual', 'confirmed', 'EUR', '25.00', '0.00']);
}, 600_000);
