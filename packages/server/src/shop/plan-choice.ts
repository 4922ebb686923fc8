import { add, formatMoney, KassaError, money, type Money } from '@kassa/core/host';
import type { ConfirmBody } from './schemas';
import type { OfferedMethod, ShopContext } from './shop-context';

/*
 * The checkout's payment plan choice (docs/payment-plans.md): where the event offers plans, the
 * order total reaches the plan minimum and the chosen method can store a card, the confirm page
 * lets the buyer pay in full or in instalments, showing the schedule (dates and amounts) before
 * the order is placed; the first instalment (the deposit) is paid right after placing. Where the
 * method stores cards, the buyer may also tick "save this card for later".
 */

/** What the confirm page shows of the choice; null parts are not offered. */
export interface PlanChoiceView {
  /** `noDeposit`: nothing is charged at checkout, the card is only saved. */
  /** `total`: what the instalments add up to (each carries the method's fee on its own share, so it can differ from paying in full). */
  plan: { count: number; noDeposit: boolean; total: string; schedule: { seq: number; amount: string; due: string }[] } | null;
  saveCard: boolean;
}

/** What the buyer chose on the confirm page. */
export interface CheckoutChoice {
  plan: boolean;
  saveMethod: boolean;
}

/**
 * The plan core would create for this cart and method: the subtotal (without the payment fee)
 * split, each instalment with the method's fee on its own share, so the schedule shown here is
 * what the plan then charges.
 */
function preview(shop: ShopContext, eventId: string, method: OfferedMethod, subtotal: Money) {
  return shop.deps.core.plans.preview(eventId, subtotal, { provider: method.provider, ctx: method.ctx });
}

/** The plan and "save this card" offers for this method and cart subtotal (which excludes the payment fee). */
export async function planChoiceView(shop: ShopContext, eventId: string, method: OfferedMethod, subtotal: Money, locale: string): Promise<PlanChoiceView> {
  if (!method.provider.storesMethods) return { plan: null, saveCard: false };
  const offer = await preview(shop, eventId, method, subtotal);
  if (!('schedule' in offer)) return { plan: null, saveCard: true };
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const now = shop.deps.clock.now().getTime();
  const dueNow = (d: Date) => d.getTime() <= now;
  return {
    plan: {
      count: offer.schedule.length,
      noDeposit: !offer.schedule.some((p) => dueNow(p.dueAt)),
      total: formatMoney(offer.schedule.reduce((sum, p) => add(sum, p.amount), money(0, subtotal.currency)), locale),
      schedule: offer.schedule.map((p) => ({ seq: p.seq, amount: formatMoney(p.amount, locale), due: dueNow(p.dueAt) ? 'today' : day.format(p.dueAt) })),
    },
    saveCard: true,
  };
}

/** The buyer's choice from the confirm form, refused (naming the field) where it is not on offer. */
export async function checkoutChoice(shop: ShopContext, eventId: string, method: OfferedMethod, subtotal: Money, body: ConfirmBody): Promise<CheckoutChoice> {
  const plan = body.plan === 'instalments';
  const saveMethod = body.saveMethod !== undefined;
  if (!plan && !saveMethod) return { plan, saveMethod };
  if (!method.provider.storesMethods) {
    throw new KassaError('VALIDATION_FAILED', { field: plan ? 'plan' : 'saveMethod', detail: `body.${plan ? 'plan' : 'saveMethod'}: ${method.name} cannot save a card` });
  }
  if (plan) {
    const offer = await preview(shop, eventId, method, subtotal);
    if ('refusal' in offer) throw new KassaError('VALIDATION_FAILED', { field: 'plan', detail: `body.plan: no payment plan for this order (${offer.refusal})` });
  }
  return { plan, saveMethod };
}
