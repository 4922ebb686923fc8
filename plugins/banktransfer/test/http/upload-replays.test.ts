import { runImport } from '../../src';
import { createDemoShop, paymentsOf, type DemoShop } from '../support/bank-harness';
import { demoOrders, sample } from '../support/samples';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * A statement upload sent again — a double-clicked upload form, two uploads at once, a replayed
 * request — and an import job run twice at once (a stalled job started again while the first
 * still runs), through the real server: every transfer is booked once, like pretix, which never
 * imports the same bank transaction twice. The repeat is stored as an import of its own that
 * says its lines were already imported.
 */
describe('bank statement uploads sent again (HTTP)', () => {
  let h: ServerHarness;
  const base = '/plugins/banktransfer/control';
  const spec = demoOrders().map((o) => ({ code: o.code, status: o.standing.paid ? 'paid' as const : o.standing.canceled ? 'canceled' as const : o.standing.expired ? 'expired' as const : 'pending' as const, total: o.total }));
  // What camt053-demo.xml pays: Q7ZRX exactly, K3LMN in part, P8TWA too much.
  const paid = { Q7ZRX: 2350, K3LMN: 2000, P8TWA: 2000 } as const;

  /** Each paid order's payments (state and amount; a canceled attempt left out), as one import leaves them. */
  let once: Record<string, string[]>;
  async function layout(demo: DemoShop): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const code of Object.keys(paid)) {
      out[code] = (await paymentsOf(h, demo.orders[code]!)).filter((p) => p.state !== 'canceled').map((p) => `${p.state} ${p.amount}`).sort();
    }
    return out;
  }

  beforeAll(async () => {
    h = await createServerHarness();
    const reference = await shop();
    const res = await upload(reference.as);
    await runImport(h.rt, res.json().id);
    once = await layout(reference.demo);
  }, 60_000);
  afterAll(async () => { await h?.destroy(); });

  async function shop(): Promise<{ demo: DemoShop; as: { cookie: string; csrf: string } }> {
    const demo = await createDemoShop(h, spec);
    return { demo, as: await h.signIn(demo.shop.organizer.id) };
  }
  const upload = (as: { cookie: string }) => h.app.inject({
    method: 'POST', url: `${base}/imports`, headers: { cookie: as.cookie, accept: 'application/json', 'content-type': 'application/json' },
    payload: JSON.stringify({ statement: sample('camt053-demo.xml'), fileName: 'december.xml' }),
  });
  /** Each paid order's transfer confirmed exactly once, and its payments as one import leaves them. */
  async function bookedOnce(demo: DemoShop): Promise<void> {
    for (const [code, amount] of Object.entries(paid)) {
      const confirmed = (await paymentsOf(h, demo.orders[code]!)).filter((p) => p.state === 'confirmed').map((p) => p.amount);
      expect([code, confirmed]).toEqual([code, [amount]]);
    }
    expect(await layout(demo)).toEqual(once);
    const lines = await h.db.dataSource.query('SELECT count(*)::int AS n FROM banktransfer_transaction WHERE organizer_id = $1', [demo.shop.organizer.id]);
    expect(lines).toEqual([{ n: 5 }]);
  }

  it('the same upload sent again books nothing twice; its import says all lines were already imported', async () => {
    const { demo, as } = await shop();
    const first = await upload(as);
    expect(first.statusCode).toBe(202);
    expect(await runImport(h.rt, first.json().id)).toMatchObject({ phase: 'finished', total: 5, booked: 3, alreadyImported: 0 });
    const again = await upload(as);
    expect(again.statusCode).toBe(202);
    expect(again.json().id).not.toBe(first.json().id);
    expect(await runImport(h.rt, again.json().id)).toMatchObject({ phase: 'finished', total: 5, processed: 0, booked: 0, alreadyImported: 5 });
    await bookedOnce(demo);
  });

  it('two uploads at once, their imports run at once: every transfer booked once, each line counted by one import', async () => {
    const { demo, as } = await shop();
    const answers = await Promise.all([upload(as), upload(as)]);
    expect(answers.map((r) => r.statusCode)).toEqual([202, 202]);
    const imports = await Promise.all(answers.map((r) => runImport(h.rt, r.json().id)));
    expect(imports.map((i) => i.phase)).toEqual(['finished', 'finished']);
    // A line stored by the other import counts as already imported, so each import accounts for all five.
    expect(imports.map((i) => i.processed + i.alreadyImported)).toEqual([5, 5]);
    expect(imports.reduce((n, i) => n + i.processed, 0)).toBe(5);
    expect(imports.reduce((n, i) => n + i.booked, 0)).toBe(3);
    await bookedOnce(demo);
  });

  it('one import run twice at once (a stalled job started again) books every transfer once', async () => {
    const { demo, as } = await shop();
    const res = await upload(as);
    expect(res.statusCode).toBe(202);
    const runs = await Promise.all([runImport(h.rt, res.json().id), runImport(h.rt, res.json().id)]);
    expect(runs.map((r) => r.phase)).toEqual(['finished', 'finished']);
    await bookedOnce(demo);
  });
});
