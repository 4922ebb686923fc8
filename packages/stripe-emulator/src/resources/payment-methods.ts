import { createHash } from 'node:crypto';
import { cardFor, luhnValid, magicPaymentMethodNumber, SEPA_ALIASES } from '../cards';
import { ApiError, invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params } from '../params';
import type { Ctx, Router } from '../router';
import type { AccountState } from '../store';
import type { PaymentMethod } from '../types';
import { getCustomer } from './customers';

const fingerprints = new Map<string, string>();
/** Same card number, same fingerprint (as Stripe); memoized because hashing is hot in benchmarks. */
function fingerprintOf(number: string): string {
  let f = fingerprints.get(number);
  if (!f) {
    f = createHash('sha256').update(number).digest('base64url').replace(/[-_]/g, '').slice(0, 16);
    if (fingerprints.size < 10_000) fingerprints.set(number, f);
  }
  return f;
}

const cardError = (code: string, message: string, param: string): ApiError =>
  new ApiError(402, 'card_error', message, { code, param, doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` });

/** Creates a card PaymentMethod from a number after the checks Stripe.js and the API make. */
export function createCardPaymentMethod(
  ctx: Pick<Ctx, 'emu' | 'account'>,
  card: { number: string; exp_month?: number; exp_year?: number; cvc?: string },
  billing?: Record<string, unknown>,
  metadata: Record<string, string> = {},
): PaymentMethod {
  const number = card.number.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) throw cardError('incorrect_number', 'Your card number is incorrect.', 'card[number]');
  // The emulator clock, not the wall clock: an injected or advanced clock must not make fresh test cards expired.
  const now = new Date(ctx.emu.nowMs());
  const expYear = card.exp_year ?? now.getUTCFullYear() + 3;
  const expMonth = card.exp_month ?? 12;
  if (expMonth < 1 || expMonth > 12) throw cardError('invalid_expiry_month', "Your card's expiration month is invalid.", 'card[exp_month]');
  const fullYear = expYear < 100 ? 2000 + expYear : expYear;
  if (fullYear < now.getUTCFullYear() || (fullYear === now.getUTCFullYear() && expMonth < now.getUTCMonth() + 1)) {
    throw cardError('invalid_expiry_year', "Your card's expiration year is invalid.", 'card[exp_year]');
  }
  const test = cardFor(number);
  if (card.cvc !== undefined && !new RegExp(`^\\d{${test.brand === 'amex' ? '3,4' : '3'}}$`).test(card.cvc)) {
    throw cardError('invalid_cvc', "Your card's security code is invalid.", 'card[cvc]');
  }
  const address = (billing?.address as Record<string, string> | undefined) ?? {};
  const pm: PaymentMethod = {
    id: ctx.emu.ids.id('pm_'),
    object: 'payment_method',
    created: ctx.emu.nowSeconds(),
    livemode: false,
    type: 'card',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: { city: address.city ?? null, country: address.country ?? null, line1: address.line1 ?? null, line2: address.line2 ?? null, postal_code: address.postal_code ?? null, state: address.state ?? null },
      email: (billing?.email as string | undefined) ?? null,
      name: (billing?.name as string | undefined) ?? null,
      phone: (billing?.phone as string | undefined) ?? null,
    },
    card: {
      brand: test.brand,
      last4: number.slice(-4),
      exp_month: expMonth,
      exp_year: fullYear,
      funding: test.funding,
      country: test.country,
      fingerprint: fingerprintOf(number),
      checks: { cvc_check: card.cvc ? 'pass' : null, address_postal_code_check: address.postal_code ? 'pass' : null, address_line1_check: null },
      three_d_secure_usage: { supported: test.brand !== 'amex' },
      wallet: null,
    },
    customer: null,
    metadata,
  };
  ctx.account.put('payment_method', pm);
  ctx.account.cardNumbers.set(pm.id, number);
  ctx.emu.own(pm.id, ctx.account);
  return pm;
}

/** A SEPA Direct Debit PM; the IBAN decides the (asynchronous) outcome (§10.6). */
export function createSepaPaymentMethod(ctx: Pick<Ctx, 'emu' | 'account'>, iban: string, billing?: Record<string, unknown>, metadata: Record<string, string> = {}): PaymentMethod {
  const clean = iban.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(clean)) throw invalidRequest('The IBAN you provided is invalid.', { param: 'sepa_debit[iban]', code: 'invalid_bank_account_iban' });
  const pm: PaymentMethod = {
    id: ctx.emu.ids.id('pm_'),
    object: 'payment_method',
    created: ctx.emu.nowSeconds(),
    livemode: false,
    type: 'sepa_debit',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: (billing?.email as string | undefined) ?? null,
      name: (billing?.name as string | undefined) ?? null,
      phone: null,
    },
    sepa_debit: { bank_code: clean.slice(4, 9), branch_code: '', country: clean.slice(0, 2), fingerprint: fingerprintOf(clean), last4: clean.slice(-4) },
    customer: null,
    metadata,
  };
  ctx.account.put('payment_method', pm);
  ctx.account.cardNumbers.set(pm.id, clean);
  return pm;
}

/** Looks up a PM id, turning a magic `pm_card_*` / `pm_sepaDebit_*` id into a fresh PM each time (§10). */
export function resolvePaymentMethod(ctx: Pick<Ctx, 'emu' | 'account'>, id: string, param = 'payment_method'): PaymentMethod {
  const magic = magicPaymentMethodNumber(id);
  if (magic) return createCardPaymentMethod(ctx, { number: magic });
  const iban = SEPA_ALIASES[id];
  if (iban) return createSepaPaymentMethod(ctx, iban);
  const pm = ctx.account.get<PaymentMethod>('payment_method', id);
  if (!pm) throw resourceMissing('PaymentMethod', id, param);
  return pm;
}

export function cardNumberOf(account: AccountState, pmId: string): string {
  return account.cardNumbers.get(pmId) ?? '4242424242424242';
}

const CARD_FIELDS = ['number', 'exp_month', 'exp_year', 'cvc', 'token', 'networks'];

/** Reads `card[...]` / `payment_method_data[...]` card input, enforcing the raw-card-data rule. */
export function paymentMethodFromData(ctx: Ctx, p: Params): PaymentMethod {
  const type = p.oneOf('type', ['card', 'sepa_debit'], true);
  if (type === 'sepa_debit') {
    const sepa = p.obj('sepa_debit', ['iban']);
    if (!sepa) throw invalidRequest('Missing required param: sepa_debit.', { param: p.name('sepa_debit'), code: 'parameter_missing' });
    return createSepaPaymentMethod(ctx, sepa.reqStr('iban'), p.loose('billing_details'), p.metadata());
  }
  const card = p.obj('card', CARD_FIELDS);
  if (!card) throw invalidRequest('Missing required param: card.', { param: p.name('card'), code: 'parameter_missing' });
  const token = card.str('token');
  const billing = p.loose('billing_details');
  const metadata = p.metadata();
  if (token) {
    const n = magicPaymentMethodNumber(token);
    if (!n) throw resourceMissing('token', token, p.name('card[token]'));
    return createCardPaymentMethod(ctx, { number: n }, billing, metadata);
  }
  if (ctx.keyKind === 'secret' && !ctx.emu.options.allowRawCardDataWithSecretKey) {
    throw invalidRequest(
      'Sending credit card numbers directly to the Stripe API is generally unsafe. To continue processing use Stripe.js, the Stripe mobile bindings, or Stripe Elements. (Kassa emulator: use a pm_card_* id, or set allowRawCardDataWithSecretKey.)',
      { param: p.name('card[number]') },
    );
  }
  return createCardPaymentMethod(ctx, { number: card.reqStr('number'), exp_month: card.int('exp_month'), exp_year: card.int('exp_year'), cvc: card.str('cvc') }, billing, metadata);
}

/** Attaches a PM to a customer; cards that decline cannot be attached (§2.2). */
export function attachPaymentMethod(ctx: Pick<Ctx, 'emu' | 'account'>, pm: PaymentMethod, customerId: string): void {
  if (ctx.account.detachedPaymentMethods.has(pm.id) || ctx.account.consumedPaymentMethods.has(pm.id)) {
    throw invalidRequest(
      'This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.',
      { param: 'payment_method' },
    );
  }
  if (pm.customer === customerId) return;
  if (pm.customer) throw invalidRequest(`The payment method you provided is already attached to a customer (${pm.customer}).`, { param: 'payment_method' });
  const behaviour = cardFor(cardNumberOf(ctx.account, pm.id)).behaviour;
  if (behaviour.kind === 'decline') {
    throw new ApiError(402, 'card_error', behaviour.message, { code: behaviour.code, decline_code: behaviour.decline_code, param: '' });
  }
  getCustomer(ctx.account, customerId);
  pm.customer = customerId;
  ctx.emu.emit(ctx.account, 'payment_method.attached', pm);
}

export function registerPaymentMethods(r: Router): void {
  r.add(
    'POST',
    '/v1/payment_methods',
    (ctx) => {
      const p = new Params(ctx.params, ['type', 'card', 'sepa_debit', 'billing_details', 'metadata', 'allow_redisplay', 'customer', 'payment_method']);
      if (p.str('payment_method')) throw invalidRequest('Cloning PaymentMethods is not modelled by the emulator.', { param: 'payment_method' });
      return paymentMethodFromData(ctx, p);
    },
    'publishable',
  );
  r.add('GET', '/v1/payment_methods/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return resolvePaymentMethod(ctx, id as string, 'id');
  });
  r.add('POST', '/v1/payment_methods/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, ['billing_details', 'metadata', 'allow_redisplay', 'card']);
    const pm = resolvePaymentMethod(ctx, id as string, 'id');
    const previous: Record<string, unknown> = {};
    if (p.has('metadata')) {
      previous.metadata = pm.metadata;
      pm.metadata = p.metadata(pm.metadata);
    }
    const card = p.obj('card', ['exp_month', 'exp_year', 'networks']);
    if (card && !pm.card) throw invalidRequest('This PaymentMethod is not a card.', { param: 'card' });
    if (pm.card && card?.has('exp_month')) pm.card.exp_month = card.int('exp_month') as number;
    if (pm.card && card?.has('exp_year')) pm.card.exp_year = card.int('exp_year') as number;
    ctx.emu.emit(ctx.account, 'payment_method.updated', pm, previous);
    return pm;
  });
  r.add('POST', '/v1/payment_methods/:id/attach', (ctx, [id]) => {
    const p = new Params(ctx.params, ['customer', 'customer_account']);
    const pm = resolvePaymentMethod(ctx, id as string, 'id');
    attachPaymentMethod(ctx, pm, p.reqStr('customer'));
    return pm;
  });
  r.add('POST', '/v1/payment_methods/:id/detach', (ctx, [id]) => {
    new Params(ctx.params, []);
    const pm = resolvePaymentMethod(ctx, id as string, 'id');
    if (!pm.customer) throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', { param: 'payment_method' });
    const previous = { customer: pm.customer };
    pm.customer = null;
    ctx.account.detachedPaymentMethods.add(pm.id);
    ctx.emu.emit(ctx.account, 'payment_method.detached', pm, previous);
    return pm;
  });
  const list = (ctx: Ctx, customer: string | undefined, p: Params, url: string): unknown => {
    if (customer) getCustomer(ctx.account, customer);
    const type = p.str('type');
    const items = [...ctx.account.coll<PaymentMethod>('payment_method').values()].filter(
      (pm) => (!customer || pm.customer === customer) && (!type || pm.type === type) && (customer || pm.customer),
    );
    return paginate(items, p, url);
  };
  r.add('GET', '/v1/payment_methods', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'customer', 'type', 'customer_account', 'allow_redisplay']);
    return list(ctx, p.str('customer'), p, '/v1/payment_methods');
  });
  r.add('GET', '/v1/customers/:id/payment_methods', (ctx, [id]) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'type', 'allow_redisplay']);
    return list(ctx, id as string, p, `/v1/customers/${id}/payment_methods`);
  });
}
