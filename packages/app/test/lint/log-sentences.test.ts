import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  coreLogSentences, describeLogEntry, formatMoney, loadPlugins, money, orderMachine, paymentMachine, refundMachine,
  type LogSentenceContext, type OrderChangeOperation,
} from '@kassa/core/host';
import { createSamplePlugin } from '@kassa/testing';
import { bundledPlugins } from '../../src/bundled-plugins';

/*
 * Every log action code Kassa writes has a human sentence in English and German (core's, or the
 * plugin's own through PluginDefinition.logSentences). The codes are collected from the state
 * machines' edges and from the sources (every 'kassa.…' literal on a line that writes an action),
 * so a new code without a sentence fails here, not in front of an organizer.
 */

const repo = resolve(__dirname, '../../../..');
const roots = ['packages/core/src', 'packages/server/src', 'packages/jobs/src', 'packages/app/src', 'plugins', 'packages/testing/src/conformance'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (['node_modules', 'dist', 'dist-types', 'test'].includes(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.ts$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The order-change kinds, each logged as kassa.order.changed.<kind>; the type check keeps the list complete. */
const changeKinds = ['cancel_position', 'change_price', 'change_product', 'add_position'] as const satisfies readonly OrderChangeOperation['kind'][];
type MissingKind = Exclude<OrderChangeOperation['kind'], (typeof changeKinds)[number]>;
const noKindMissing: MissingKind extends never ? true : false = true;

function writtenCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const m of [orderMachine, paymentMachine, refundMachine]) for (const e of m.edges) if (e.log) codes.set(e.log, `${m.name} machine`);
  for (const file of roots.flatMap((r) => sourceFiles(resolve(repo, r)))) {
    if (file.endsWith('log-sentences.ts')) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (!/\b(action|log)\s*:/.test(line)) return;
      for (const lit of line.matchAll(/['"`](kassa\.[a-z0-9_-]+(?:\.[a-z0-9_-]+)+)(\.\$\{)?/g)) {
        if (lit[2]) for (const kind of changeKinds) codes.set(`${lit[1]}.${kind}`, `${relative(repo, file)}:${i + 1}`);
        else codes.set(lit[1]!, `${relative(repo, file)}:${i + 1}`);
      }
    });
  }
  return codes;
}

const sentences = loadPlugins([...bundledPlugins, createSamplePlugin()]).logSentences;

const context = (over: Partial<LogSentenceContext> = {}): LogSentenceContext => ({
  locale: 'en', currency: 'EUR', actor: 'anna@example.org',
  payments: new Map([['pay-2', { localId: 2, amount: 4500, currency: 'EUR', provider: 'stripe' }]]),
  refunds: new Map([['ref-1', { localId: 1, amount: 700, currency: 'EUR', provider: 'stripe' }]]),
  providerName: (id) => (id === 'stripe' ? 'Stripe' : id),
  formatMoney: (a, c) => formatMoney(money(a, c), over.locale === 'de' ? 'de-DE' : 'en-GB'),
  formatDate: (d) => d.toISOString(),
  ...over,
});

describe('log sentences', () => {
  it('finds the codes it checks (machines, services, plugins)', () => {
    expect(noKindMissing).toBe(true);
    const codes = writtenCodes();
    for (const code of ['kassa.order.paid', 'kassa.order.payment.started', 'kassa.order.changed.add_position', 'kassa.stripe.dispute.updated', 'kassa.settings.changed']) {
      expect(codes.has(code)).toBe(true);
    }
  });

  it('has an English and a German sentence for every code Kassa writes', () => {
    const missing = [...writtenCodes()].filter(([code]) => !sentences[code]?.en || !sentences[code]?.de).map(([code, where]) => `${code} (${where})`);
    expect(missing).toEqual([]);
  });

  it('renders every sentence with no placeholder left over, with and without details', () => {
    for (const [action, s] of Object.entries(sentences)) {
      for (const locale of ['en', 'de'] as const) {
        for (const objectId of ['pay-2', 'ref-1']) {
          const text = describeLogEntry({ action, objectType: objectId.startsWith('pay') ? 'payment' : 'refund', objectId, data: {} }, context({ locale }), sentences);
          expect([action, text]).not.toEqual([action, expect.stringMatching(/[{}[\]]/)]);
          expect(text).not.toBe(action);
        }
        expect(s[locale].length).toBeGreaterThan(5);
      }
    }
  });

  it('speaks people\'s language with the details', () => {
    const confirmed = { action: 'kassa.order.payment.confirmed', objectType: 'payment', objectId: 'pay-2', data: {} };
    expect(describeLogEntry(confirmed, context({ actor: 'Stripe' }), sentences)).toBe('Payment P-2 of €45.00 confirmed by Stripe');
    expect(describeLogEntry(confirmed, context({ actor: 'Stripe', locale: 'de' }), sentences)).toBe('Zahlung P-2 über 45,00\u00a0€ bestätigt von Stripe');
    const refund = { action: 'kassa.order.refund.created', objectType: 'refund', objectId: 'ref-1', data: { amount: 700 } };
    expect(describeLogEntry(refund, context(), sentences)).toBe('Refund R-1 of €7.00 started by anna@example.org');
    const canceled = { action: 'kassa.order.canceled', objectType: 'order', objectId: 'o', data: { cancellationFee: 500 } };
    expect(describeLogEntry(canceled, context(), sentences)).toBe('Order canceled by anna@example.org, keeping a cancellation fee of €5.00');
    expect(describeLogEntry({ ...canceled, data: { cancellationFee: 0 } }, context(), sentences)).toBe('Order canceled by anna@example.org');
    const dispute = { action: 'kassa.stripe.dispute.updated', objectType: 'payment', objectId: 'pay-2', data: { status: 'needs_response', reason: 'fraudulent', amount: 4500 } };
    expect(describeLogEntry(dispute, context({ actor: 'Stripe' }), sentences)).toBe('Stripe dispute on payment P-2 of €45.00: needs_response (reason: fraudulent)');
    expect(describeLogEntry({ action: 'kassa.unknown.code', objectType: 'order', objectId: 'o', data: {} }, context(), sentences)).toBe('kassa.unknown.code');
    expect(coreLogSentences['kassa.order.paid']).toBeDefined();
  });

  it('refuses a plugin that rewords another\'s code or leaves out a language', () => {
    const base = { version: '1.0.0', coreRange: '*' };
    expect(() => loadPlugins([{ ...createSamplePlugin(), name: 'acme', logSentences: { 'kassa.order.paid': { en: 'Paid!', de: 'Bezahlt!' } } }]))
      .toThrow(/not one of the plugin's own codes/);
    expect(() => loadPlugins([{ ...createSamplePlugin(), ...base, logSentences: { 'kassa.acme.notified': { en: 'Notified', de: '' } } }]))
      .toThrow(/needs a sentence in "de"/);
  });
});
