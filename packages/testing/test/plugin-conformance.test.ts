import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSamplePlugin, runPluginConformance } from '../src';

// The sample plugin is built from the plugin port alone: no host surface, no TypeORM, no core table.
describe('the sample plugin', () => {
  it('imports nothing but @kassa/core', () => {
    const source = readFileSync(resolve(__dirname, '../src/conformance/sample-plugin.ts'), 'utf8');
    expect([...source.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['@kassa/core']);
    expect(source).not.toMatch(/order_payment|kassa_order|log_entry|outbox_event/);
  });
});

runPluginConformance(createSamplePlugin, {
  provider: 'acme',
  routes: {
    'a notice for a pending payment': {
      method: 'POST', path: '/notify/:paymentId', expectStatus: 200,
      request: (ctx) => ({ params: { paymentId: ctx.paymentId } }),
      verify: async (ctx, res) => {
        // Confirmed through core (payments port), with its audit entry and the plugin's own outbox topic.
        expect(res).toMatchObject({ status: 200, body: { outcome: 'order_paid', orderUrl: expect.stringMatching(/^https:\/\/shop\.kassa\.test\/.+\/order\//) } });
        const { payment } = await ctx.core.payments.loadPayment(ctx.paymentId);
        expect(payment.state).toBe('confirmed');
        expect(payment.info).toMatchObject({ acmeRef: `acme-${ctx.paymentId}`, notified: true });
        expect(await ctx.dataSource.query('SELECT kind FROM acme_notice WHERE payment_id = $1', [ctx.paymentId])).toEqual([{ kind: 'paid' }]);
        expect(await ctx.dataSource.query(`SELECT actor_type, actor_id FROM log_entry WHERE object_id = $1 AND action = 'kassa.acme.notified'`, [ctx.paymentId]))
          .toEqual([{ actor_type: 'provider', actor_id: 'acme' }]);
        expect(await ctx.dataSource.query(`SELECT payload->>'kind' AS kind FROM outbox_event WHERE topic = 'acme.notified' AND payload->>'paymentId' = $1`, [ctx.paymentId]))
          .toEqual([{ kind: 'paid' }]);
        expect(ctx.enqueued).toEqual([{ job: 'sweep', payload: { paymentId: ctx.paymentId } }]);
      },
    },
    'an unknown payment: the plugin\'s own error code': {
      method: 'POST', path: '/notify/:paymentId', expectStatus: 404,
      request: () => ({ params: { paymentId: '00000000-0000-4000-8000-000000000000' } }),
      verify: async (_ctx, res) => {
        expect(res).toMatchObject({ body: { error: { code: 'ACME_PAYMENT_UNKNOWN', message: 'Acme knows no payment 00000000-0000-4000-8000-000000000000' } } });
      },
    },
  },
  jobs: {
    sweep: {
      payload: (ctx) => ({ paymentId: ctx.paymentId }),
      verify: async (ctx) => {
        expect((await ctx.core.payments.loadPayment(ctx.paymentId)).payment.info).toMatchObject({ sweptNotices: 0 });
      },
    },
  },
});
