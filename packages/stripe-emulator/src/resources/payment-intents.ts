import { parseCurrency, validateAmount } from '../currencies';
import { ApiError, invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params, refuseAutomaticWithExplicitTypes } from '../params';
import { checkStatementDescriptors } from '../statement-descriptors';
import type { Ctx, Router } from '../router';
import type { Charge, PaymentIntent, PaymentMethod } from '../types';
import { automaticPaymentMethodsByDefault, defaultCaptureMethod, paymentMethodTypesRemoved } from '../versions';
import { getCustomer } from './customers';
import { attemptPayment, capture, restrictedPaymentIntent, type ConfirmOptions } from './payment-intent-flow';
import { paymentMethodFromData, resolvePaymentMethod } from './payment-methods';

const CREATE = ['amount', 'currency', 'allowed_payment_method_types', 'amount_details', 'application_fee_amount', 'automatic_payment_methods', 'capture_method', 'confirm', 'confirmation_method', 'confirmation_token', 'customer', 'description', 'error_on_requires_action', 'excluded_payment_method_types', 'mandate', 'mandate_data', 'metadata', 'off_session', 'on_behalf_of', 'payment_method', 'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'receipt_email', 'return_url', 'setup_future_usage', 'shipping', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data', 'transfer_group', 'use_stripe_sdk'];
const CONFIRM = ['capture_method', 'error_on_requires_action', 'mandate', 'mandate_data', 'off_session', 'payment_method', 'payment_method_data', 'payment_method_options', 'receipt_email', 'return_url', 'setup_future_usage', 'shipping', 'use_stripe_sdk', 'allowed_payment_method_types', 'excluded_payment_method_types', 'confirmation_token'];
const CONFIRM_ONLY = ['return_url', 'off_session', 'error_on_requires_action', 'mandate', 'mandate_data', 'use_stripe_sdk'];
const UPDATE = ['amount', 'currency', 'allowed_payment_method_types', 'application_fee_amount', 'capture_method', 'customer', 'description', 'excluded_payment_method_types', 'metadata', 'payment_method', 'payment_method_data', 'payment_method_options', 'receipt_email', 'setup_future_usage', 'shipping', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data', 'transfer_group'];
const PM_DATA = ['type', 'card', 'sepa_debit', 'billing_details', 'metadata', 'allow_redisplay'];

/** §12: before endive the request still takes `payment_method_types`. */
function allowed(ctx: Ctx, list: string[]): string[] {
  return paymentMethodTypesRemoved(ctx.apiVersion) && ctx.emu.options.enforceEndiveRemovals ? list : [...list, 'payment_method_types'];
}

export function getPaymentIntent(ctx: Ctx, id: string, param = 'intent'): PaymentIntent {
  const pi = ctx.account.get<PaymentIntent>('payment_intent', id);
  if (!pi) throw resourceMissing('payment_intent', id, param);
  if (ctx.keyKind === 'publishable') {
    // Browser calls prove possession of the client secret (§1.11).
    const secret = typeof ctx.params.client_secret === 'string' ? ctx.params.client_secret : undefined;
    if (secret !== pi.client_secret) {
      throw invalidRequest(`No such payment_intent: '${id}'; a publishable key needs the PaymentIntent's client_secret.`, { code: 'resource_missing', param: 'client_secret' });
    }
  }
  return pi;
}

/** Picks the PM for a confirmation: explicit id, `payment_method_data`, or the one already on the PI. */
function paymentMethodForConfirm(ctx: Ctx, p: Params, pi: PaymentIntent): PaymentMethod {
  const data = p.obj('payment_method_data', PM_DATA);
  const id = p.str('payment_method');
  let pm: PaymentMethod | undefined;
  if (data) pm = paymentMethodFromData(ctx, data);
  else if (id) pm = resolvePaymentMethod(ctx, id);
  else if (pi.payment_method) pm = resolvePaymentMethod(ctx, pi.payment_method);
  if (!pm) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with cus_, specify a payment method attached to this customer along with the customer ID.",
      { code: 'payment_intent_unexpected_state', param: 'payment_method' },
    );
  }
  if (ctx.account.detachedPaymentMethods.has(pm.id) || ctx.account.consumedPaymentMethods.has(pm.id)) {
    throw invalidRequest(
      'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.',
      { param: 'payment_method' },
    );
  }
  if (pm.customer && pm.customer !== pi.customer) {
    throw invalidRequest(
      `The \`payment_method\` parameter supplied ${pm.id} belongs to the Customer ${pm.customer}. Please include the Customer in the \`customer\` parameter on the PaymentIntent.`,
      { param: 'payment_method' },
    );
  }
  return pm;
}

/** Confirms a PI with the confirmation params in `p` (shared by create?confirm=true and /confirm). */
function confirm(ctx: Ctx, pi: PaymentIntent, p: Params): PaymentIntent {
  if (pi.status !== 'requires_payment_method' && pi.status !== 'requires_confirmation') {
    throw new ApiError(400, 'invalid_request_error', `This PaymentIntent's payment_method could not be updated because it has a status of ${pi.status}. You may only update the payment_method of a PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, requires_action.`, {
      code: 'payment_intent_unexpected_state',
      payment_intent: structuredClone(pi),
    });
  }
  const sfu = p.oneOf('setup_future_usage', ['on_session', 'off_session']);
  if (sfu) pi.setup_future_usage = sfu;
  applyPaymentMethodOptions(pi, p);
  const cm = p.oneOf('capture_method', ['automatic', 'automatic_async', 'manual']);
  if (cm) pi.capture_method = cm;
  const limit = ctx.emu.options.maxConfirmationAttempts;
  const attempts = (ctx.account.confirmAttempts.get(pi.id) ?? 0) + 1;
  ctx.account.confirmAttempts.set(pi.id, attempts);
  if (limit !== null && attempts > limit) {
    // §1.3: past Stripe's (unpublished) attempt limit the PI is canceled.
    pi.status = 'canceled';
    pi.canceled_at = ctx.emu.nowSeconds();
    pi.cancellation_reason = 'automatic';
    ctx.emu.emit(ctx.account, 'payment_intent.canceled', pi);
    throw new ApiError(400, 'invalid_request_error', `This PaymentIntent was canceled after too many confirmation attempts (${limit}).`, { code: 'payment_intent_unexpected_state', payment_intent: structuredClone(pi) });
  }
  const pm = paymentMethodForConfirm(ctx, p, pi);
  const offSessionRaw = p.str('off_session');
  const offSession = offSessionRaw === 'true' || offSessionRaw === 'one_off' || offSessionRaw === 'recurring';
  const returnUrl = p.str('return_url') ?? null;
  const useStripeSdk = ctx.keyKind === 'publishable' || p.bool('use_stripe_sdk') === true;
  if (returnUrl && !/^https?:\/\//.test(returnUrl)) throw invalidRequest('Invalid URL: return_url must be an absolute http(s) URL.', { param: 'return_url' });
  const redirects = pi.automatic_payment_methods?.enabled && pi.automatic_payment_methods.allow_redirects !== 'never';
  if (redirects && !returnUrl && !useStripeSdk) {
    throw invalidRequest(
      "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
      { param: 'return_url' },
    );
  }
  if (p.has('receipt_email')) pi.receipt_email = p.str('receipt_email') ?? null;
  const opts: ConfirmOptions = { offSession, errorOnRequiresAction: p.bool('error_on_requires_action') === true, useStripeSdk, returnUrl };
  attemptPayment(ctx.emu, ctx.account, pi, pm, opts);
  return pi;
}

/** Reads `payment_method_options[card][…]` (other PM types are accepted and ignored). */
function applyPaymentMethodOptions(pi: PaymentIntent, p: Params): void {
  const options = p.obj('payment_method_options', ['card', 'link', 'sepa_debit', 'us_bank_account', 'paypal', 'klarna', 'ideal', 'bancontact', 'giropay', 'sofort', 'eps', 'p24', 'apple_pay', 'google_pay', 'amazon_pay', 'revolut_pay', 'twint', 'blik', 'wechat_pay', 'alipay', 'cashapp', 'affirm', 'afterpay_clearpay', 'mobilepay']);
  const card = options?.obj('card', ['capture_method', 'request_three_d_secure', 'setup_future_usage', 'installments', 'mandate_options', 'network', 'request_extended_authorization', 'request_incremental_authorization', 'request_multicapture', 'request_overcapture', 'require_cvc_recollection', 'statement_descriptor_suffix_kana', 'statement_descriptor_suffix_kanji', 'three_d_secure', 'cvc_token']);
  if (!card) return;
  // Replaced, never mutated: event snapshots of a PI share its nested objects.
  const next = { ...pi.payment_method_options.card };
  if (card.has('capture_method')) {
    const cm = card.oneOf('capture_method', ['manual']);
    if (cm) next.capture_method = cm;
    else delete next.capture_method;
  }
  const r3ds = card.oneOf('request_three_d_secure', ['any', 'automatic', 'challenge']);
  if (r3ds) next.request_three_d_secure = r3ds;
  pi.payment_method_options = { card: next };
}

function render(ctx: Ctx, pi: PaymentIntent): unknown {
  return ctx.keyKind === 'publishable' ? restrictedPaymentIntent(pi) : pi;
}

function parseTransferData(ctx: Ctx, p: Params): PaymentIntent['transfer_data'] {
  const td = p.obj('transfer_data', ['destination', 'amount']);
  if (!td) return null;
  const destination = td.reqStr('destination');
  const dest = ctx.emu.account(destination);
  if (!dest || dest.platformId !== ctx.account.id) throw invalidRequest(`No such destination: '${destination}'`, { param: 'transfer_data[destination]', code: 'resource_missing' });
  // Stripe Connect: a transfer needs the destination's transfers capability.
  if (dest.account.capabilities.transfers !== 'active') {
    throw invalidRequest('Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments', { code: 'insufficient_capabilities_for_transfer', param: 'transfer_data[destination]' });
  }
  const amount = td.int('amount');
  if (amount !== undefined && p.has('application_fee_amount')) {
    throw invalidRequest('You may only specify one of these parameters: application_fee_amount, transfer_data[amount].', { code: 'parameters_exclusive', param: 'transfer_data[amount]' });
  }
  return amount === undefined ? { destination } : { destination, amount };
}

export function registerPaymentIntents(r: Router): void {
  r.add('POST', '/v1/payment_intents', (ctx) => {
    const p = new Params(ctx.params, allowed(ctx, CREATE));
    const amount = p.reqInt('amount');
    const currency = parseCurrency(p.reqStr('currency'));
    validateAmount(amount, currency, ctx.emu.options);
    const doConfirm = p.bool('confirm') === true;
    if (!doConfirm) for (const k of CONFIRM_ONLY) if (p.has(k)) throw invalidRequest(`You can only pass \`${k}\` when \`confirm\` is true.`, { param: k });
    refuseAutomaticWithExplicitTypes(p);
    const types = p.strArray('payment_method_types') ?? p.strArray('allowed_payment_method_types');
    const apmParams = p.obj('automatic_payment_methods', ['enabled', 'allow_redirects']);
    const confirmationMethod = p.oneOf('confirmation_method', ['automatic', 'manual']) ?? 'automatic';
    if (apmParams && p.has('confirmation_method')) {
      throw invalidRequest('You may only specify one of these parameters: automatic_payment_methods, confirmation_method.', { code: 'parameters_exclusive', param: 'automatic_payment_methods' });
    }
    let apm: PaymentIntent['automatic_payment_methods'] = null;
    if (apmParams) {
      const redirects = apmParams.oneOf('allow_redirects', ['always', 'never']);
      apm = { enabled: apmParams.bool('enabled') ?? true, ...(redirects ? { allow_redirects: redirects } : { allow_redirects: 'always' as const }) };
    } else if (!types && !p.has('confirmation_method') && automaticPaymentMethodsByDefault(ctx.apiVersion)) {
      apm = { enabled: true, allow_redirects: 'always' };
    }
    const customer = p.str('customer');
    if (customer) getCustomer(ctx.account, customer);
    const feeAmount = p.int('application_fee_amount');
    if (feeAmount !== undefined && feeAmount > amount) throw invalidRequest('application_fee_amount must be less than or equal to the amount.', { param: 'application_fee_amount' });
    const onBehalfOf = p.str('on_behalf_of');
    const settlement = onBehalfOf ? ctx.emu.account(onBehalfOf) : undefined;
    if (onBehalfOf && (!settlement || settlement.platformId !== ctx.account.id)) throw invalidRequest(`No such account: '${onBehalfOf}'`, { param: 'on_behalf_of', code: 'resource_missing' });
    // §9.4: on_behalf_of makes the account the settlement merchant, which needs card_payments.
    if (settlement && settlement.account.capabilities.card_payments !== 'active') {
      throw invalidRequest(`The account ${settlement.id} cannot be the settlement merchant (on_behalf_of): its card_payments capability is not active.`, { param: 'on_behalf_of', code: 'insufficient_capabilities_for_transfer' });
    }
    // A direct charge (Stripe-Account) needs the connected account able to take charges.
    if (ctx.account.platformId && !ctx.account.account.charges_enabled) {
      throw invalidRequest(`The account ${ctx.account.id} cannot create charges yet: charges_enabled is false (requirements: ${ctx.account.account.requirements.disabled_reason ?? 'unknown'}).`, { param: 'account' });
    }
    const destinationId = (ctx.params.transfer_data as { destination?: string } | undefined)?.destination;
    if (onBehalfOf && destinationId && destinationId !== onBehalfOf) {
      throw invalidRequest('The on_behalf_of account must be the same as transfer_data[destination].', { param: 'on_behalf_of' });
    }
    // Automatic payment methods: what a test dashboard typically enables (SEPA only for EUR).
    const pmTypes = types ?? (apm?.enabled && currency === 'eur' ? ['card', 'sepa_debit'] : ['card']);
    const descriptors = checkStatementDescriptors(p, settlement ?? ctx.account, pmTypes);
    const id = ctx.emu.ids.id('pi_');
    const pi: PaymentIntent = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      application: null,
      application_fee_amount: feeAmount ?? null,
      automatic_payment_methods: apm,
      allowed_payment_method_types: p.strArray('allowed_payment_method_types') ?? null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: p.oneOf('capture_method', ['automatic', 'automatic_async', 'manual']) ?? defaultCaptureMethod(ctx.apiVersion),
      client_secret: `${id}_secret_${ctx.emu.ids.id('', 25)}`,
      confirmation_method: confirmationMethod,
      created: ctx.emu.nowSeconds(),
      currency,
      customer: customer ?? null,
      description: p.str('description') ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: p.metadata(),
      next_action: null,
      on_behalf_of: onBehalfOf ?? null,
      payment_method: null,
      payment_method_types: pmTypes,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } },
      processing: null,
      receipt_email: p.str('receipt_email') ?? null,
      setup_future_usage: p.oneOf('setup_future_usage', ['on_session', 'off_session']) ?? null,
      statement_descriptor: descriptors.descriptor ?? null,
      statement_descriptor_suffix: descriptors.suffix ?? null,
      status: 'requires_payment_method',
      transfer_data: parseTransferData(ctx, p),
      transfer_group: p.str('transfer_group') ?? null,
    };
    applyPaymentMethodOptions(pi, p);
    const pmId = p.str('payment_method');
    if (pmId && !doConfirm) {
      pi.payment_method = resolvePaymentMethod(ctx, pmId).id;
      pi.status = 'requires_confirmation';
    }
    ctx.account.put('payment_intent', pi);
    ctx.emu.own(pi.id, ctx.account);
    ctx.emu.emit(ctx.account, 'payment_intent.created', pi);
    if (doConfirm) confirm(ctx, pi, p);
    return pi;
  });

  r.add(
    'GET',
    '/v1/payment_intents/:id',
    (ctx, [id]) => {
      new Params(ctx.params, ['client_secret']);
      return render(ctx, getPaymentIntent(ctx, id as string));
    },
    'publishable',
  );

  r.add('POST', '/v1/payment_intents/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, allowed(ctx, UPDATE));
    const pi = getPaymentIntent(ctx, id as string);
    const editable = pi.status === 'requires_payment_method' || pi.status === 'requires_confirmation' || pi.status === 'requires_action';
    const always = ['metadata', 'description', 'receipt_email', 'shipping'];
    for (const k of Object.keys(p.raw)) {
      if (!editable && !always.includes(k) && k !== 'expand') {
        throw invalidRequest(`You cannot update ${k} on a PaymentIntent with status ${pi.status}.`, { code: 'payment_intent_unexpected_state', param: k });
      }
    }
    if (p.has('amount')) {
      const amount = p.reqInt('amount');
      validateAmount(amount, p.has('currency') ? parseCurrency(p.reqStr('currency')) : pi.currency, ctx.emu.options);
      pi.amount = amount;
    }
    if (p.has('currency')) pi.currency = parseCurrency(p.reqStr('currency'));
    if (p.has('customer')) {
      const c = p.str('customer');
      if (c) getCustomer(ctx.account, c);
      pi.customer = c ?? null;
    }
    if (p.has('description')) pi.description = p.str('description') ?? null;
    if (p.has('receipt_email')) pi.receipt_email = p.str('receipt_email') ?? null;
    if (p.has('metadata')) pi.metadata = p.metadata(pi.metadata);
    if (p.has('capture_method')) pi.capture_method = p.oneOf('capture_method', ['automatic', 'automatic_async', 'manual']) as PaymentIntent['capture_method'];
    if (p.has('setup_future_usage')) pi.setup_future_usage = p.oneOf('setup_future_usage', ['on_session', 'off_session']) ?? null;
    if (p.has('application_fee_amount')) pi.application_fee_amount = p.int('application_fee_amount') ?? null;
    if (p.has('transfer_group')) pi.transfer_group = p.str('transfer_group') ?? null;
    if (p.has('transfer_data')) pi.transfer_data = parseTransferData(ctx, p);
    if (p.has('statement_descriptor') || p.has('statement_descriptor_suffix')) {
      const settlement = (pi.on_behalf_of ? ctx.emu.account(pi.on_behalf_of) : undefined) ?? ctx.account;
      const d = checkStatementDescriptors(p, settlement, pi.payment_method_types);
      if (p.has('statement_descriptor')) pi.statement_descriptor = d.descriptor ?? null;
      if (p.has('statement_descriptor_suffix')) pi.statement_descriptor_suffix = d.suffix ?? null;
    }
    applyPaymentMethodOptions(pi, p);
    const pmData = p.obj('payment_method_data', PM_DATA);
    if (pmData || p.has('payment_method')) {
      const pmId = p.str('payment_method');
      pi.payment_method = pmData ? paymentMethodFromData(ctx, pmData).id : pmId ? resolvePaymentMethod(ctx, pmId).id : null;
    }
    // Invariant 3: any update clears the last error; a changed PM or amount needs a new confirm.
    pi.last_payment_error = null;
    if (editable && (p.has('payment_method') || pmData || p.has('amount') || p.has('currency'))) {
      pi.status = pi.payment_method ? 'requires_confirmation' : 'requires_payment_method';
      pi.next_action = null;
    }
    return pi;
  });

  r.add(
    'POST',
    '/v1/payment_intents/:id/confirm',
    (ctx, [id]) => {
      const names = ctx.keyKind === 'publishable' ? [...CONFIRM, 'client_secret'] : CONFIRM;
      const p = new Params(ctx.params, allowed(ctx, names));
      const pi = getPaymentIntent(ctx, id as string);
      if (pi.status === 'requires_action' && ctx.keyKind === 'publishable') return render(ctx, pi);
      try {
        return render(ctx, confirm(ctx, pi, p));
      } catch (err) {
        // The browser only ever sees the restricted PI, in errors too (§1.11).
        if (ctx.keyKind === 'publishable' && err instanceof ApiError && err.fields.payment_intent) {
          throw new ApiError(err.status, err.type, err.message, { ...err.fields, payment_intent: restrictedPaymentIntent(pi) }, err.headers);
        }
        throw err;
      }
    },
    'publishable',
  );

  r.add('POST', '/v1/payment_intents/:id/capture', (ctx, [id]) => {
    const p = new Params(ctx.params, ['amount_to_capture', 'application_fee_amount', 'final_capture', 'metadata', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data', 'amount_details', 'payment_details', 'hooks']);
    const pi = getPaymentIntent(ctx, id as string);
    if (pi.status !== 'requires_capture') {
      throw new ApiError(400, 'invalid_request_error', `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`, {
        code: 'payment_intent_unexpected_state',
        payment_intent: structuredClone(pi),
      });
    }
    const amount = p.int('amount_to_capture') ?? pi.amount_capturable;
    if (amount > pi.amount_capturable) {
      throw invalidRequest(`The amount to capture (${amount}) is greater than the amount capturable (${pi.amount_capturable}).`, { code: 'amount_too_large', param: 'amount_to_capture' });
    }
    if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { param: 'amount_to_capture' });
    const fee = p.int('application_fee_amount');
    if (fee !== undefined) pi.application_fee_amount = fee;
    if (p.has('metadata')) pi.metadata = p.metadata(pi.metadata);
    const ch = ctx.account.get<Charge>('charge', pi.latest_charge ?? '') as Charge;
    if (fee !== undefined) ch.application_fee_amount = fee;
    capture(ctx.emu, ctx.account, pi, ch, amount, true);
    return pi;
  });

  r.add('POST', '/v1/payment_intents/:id/cancel', (ctx, [id]) => {
    const p = new Params(ctx.params, ['cancellation_reason']);
    const pi = getPaymentIntent(ctx, id as string);
    const reason = p.oneOf('cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']);
    if (pi.status === 'succeeded' || pi.status === 'canceled' || pi.status === 'processing') {
      throw new ApiError(400, 'invalid_request_error', `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action.`, {
        code: 'payment_intent_unexpected_state',
        payment_intent: structuredClone(pi),
      });
    }
    // basil+: releasing an authorization creates no Refund and no charge.refunded (§12).
    pi.status = 'canceled';
    pi.amount_capturable = 0;
    pi.next_action = null;
    pi.canceled_at = ctx.emu.nowSeconds();
    pi.cancellation_reason = reason ?? null;
    ctx.emu.emit(ctx.account, 'payment_intent.canceled', pi);
    return pi;
  });

  r.add('GET', '/v1/payment_intents', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'customer', 'customer_account']);
    const customer = p.str('customer');
    const items = [...ctx.account.coll<PaymentIntent>('payment_intent').values()].filter((pi) => !customer || pi.customer === customer);
    return paginate(items, p, '/v1/payment_intents');
  });
}
