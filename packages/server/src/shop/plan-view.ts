import { formatMoney, instalmentMachine, money, planMachine, type CurrencyCode, type InstalmentState } from '@kassa/core/host';
import type { ShopContext } from './shop-context';

/** What each instalment state means to the buyer. */
const instalmentLabels: Record<InstalmentState, string> = {
  on_session: 'Due now', scheduled: 'Scheduled', processing: 'Processing', retrying: 'Will be tried again', action_required: 'Needs your action',
  paid: 'Paid', failed: 'Not paid', canceled: 'Canceled',
};

/**
 * The order's payment plan as its buyer sees it (docs/payment-plans.md): each instalment with its
 * date, amount and state, and the card it is charged to. Reading the plan first settles
 * instalments whose payment was confirmed meanwhile (the deposit, an instalment paid on-session).
 */
export async function buyerPlanView(shop: ShopContext, order: { id: string; currency: string }, locale: string) {
  const view = await shop.deps.core.plans.view(order.id);
  if (!view) return null;
  const currency = order.currency.trim() as CurrencyCode;
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const method = view.plan.storedMethodId ? (await shop.deps.core.storedMethods.listForOrder(order.id)).find((m) => m.id === view.plan.storedMethodId) : undefined;
  return {
    running: planMachine.is('running', view.plan.state),
    closed: planMachine.is('closed', view.plan.state),
    card: method ? `${method.brand ? method.brand[0]!.toUpperCase() + method.brand.slice(1) : 'Card'} ····${method.last4 ?? '????'}` : null,
    nextCharge: view.nextCharge ? day.format(view.nextCharge.at) : null,
    instalments: view.instalments.map((i) => ({
      seq: i.seq, due: day.format(i.dueAt), amount: formatMoney(money(i.amount, currency), locale), state: i.state, stateLabel: instalmentLabels[i.state],
      needsBuyer: instalmentMachine.is('awaitingBuyer', i.state), paid: instalmentMachine.is('paid', i.state),
    })),
  };
}
