import { cardFor } from '../cards';
import { ApiError, invalidRequest, resourceMissing } from '../errors';
import type { Emulator } from '../emulator';
import { LIST_PARAMS, paginate } from '../lists';
import { Params, refuseAutomaticWithExplicitTypes } from '../params';
import type { Ctx, Router } from '../router';
import type { AccountState } from '../store';
import type { PaymentMethod, SetupIntent } from '../types';
import { paymentMethodTypesRemoved } from '../versions';
import { getCustomer } from './customers';
import { nextActionFor } from './payment-intent-flow';
import { attachPaymentMethod, cardNumberOf, paymentMethodFromData, resolvePaymentMethod } from './payment-methods';

const CREATE = ['allowed_payment_method_types', 'attach_to_self', 'automatic_payment_methods', 'confirm', 'confirmation_token', 'customer', 'customer_account', 'description', 'excluded_payment_method_types', 'flow_directions', 'mandate_data', 'metadata', 'on_behalf_of', 'payment_method', 'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'return_url', 'single_use', 'usage', 'use_stripe_sdk'];
const CONFIRM = ['allowed_payment_method_types', 'confirmation_token', 'mandate_data', 'payment_method', 'payment_method_data', 'payment_method_options', 'return_url', 'use_stripe_sdk'];
const PM_DATA = ['type', 'card', 'sepa_debit', 'billing_details', 'metadata', 'allow_redisplay'];

const withTypes = (ctx: Ctx, list: string[]): string[] =>
  paymentMethodTypesRemoved(ctx.apiVersion) && ctx.emu.options.enforceEndiveRemovals ? list : [...list, 'payment_method_types'];

export function restrictedSetupIntent(si: SetupIntent): Record<string, unknown> {
  const keys = ['id', 'object', 'cancellation_reason', 'client_secret', 'created', 'description', 'last_setup_error', 'livemode', 'next_action', 'payment_method', 'payment_method_types', 'status', 'usage'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = si[k];
  return out;
}

function getSetupIntent(ctx: Ctx, id: string): SetupIntent {
  const si = ctx.account.get<SetupIntent>('setup_intent', id);
  if (!si) throw resourceMissing('setup_intent', id, 'intent');
  if (ctx.keyKind === 'publishable' && ctx.params.client_secret !== si.client_secret) {
    throw invalidRequest(`No such setup_intent: '${id}'; a publishable key needs the SetupIntent's client_secret.`, { code: 'resource_missing', param: 'client_secret' });
  }
  return si;
}

function succeed(emu: Emulator, account: AccountState, si: SetupIntent, pm: PaymentMethod): void {
  si.status = 'succeeded';
  si.next_action = null;
  si.last_setup_error = null;
  if (si.customer) attachPaymentMethod({ emu, account }, pm, si.customer);
  // "Authenticate unless set up" cards pass off-session from now on (§10.3).
  account.setUpPaymentMethods.add(pm.id);
  emu.emit(account, 'setup_intent.succeeded', si);
}

/** §2.1: declines fail the setup; every 3DS card needs the challenge at setup (on-session). */
function confirm(ctx: Ctx, si: SetupIntent, p: Params): SetupIntent {
  if (si.status !== 'requires_payment_method' && si.status !== 'requires_confirmation') {
    throw invalidRequest(`This SetupIntent could not be confirmed because it has a status of ${si.status}.`, { code: 'setup_intent_unexpected_state' });
  }
  const data = p.obj('payment_method_data', PM_DATA);
  const pmId = p.str('payment_method');
  const pm = data ? paymentMethodFromData(ctx, data) : pmId ? resolvePaymentMethod(ctx, pmId) : si.payment_method ? resolvePaymentMethod(ctx, si.payment_method) : undefined;
  if (!pm) throw invalidRequest('You cannot confirm this SetupIntent because it is missing a payment method.', { code: 'setup_intent_unexpected_state', param: 'payment_method' });
  const returnUrl = p.str('return_url') ?? null;
  const useStripeSdk = ctx.keyKind === 'publishable' || p.bool('use_stripe_sdk') === true;
  if (si.automatic_payment_methods?.enabled && si.automatic_payment_methods.allow_redirects !== 'never' && !returnUrl && !useStripeSdk) {
    throw invalidRequest('This SetupIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`.', { param: 'return_url' });
  }
  si.payment_method = pm.id;
  const behaviour = cardFor(cardNumberOf(ctx.account, pm.id)).behaviour;
  if (behaviour.kind === 'decline') {
    si.status = 'requires_payment_method';
    si.payment_method = null;
    si.last_setup_error = { type: 'card_error', code: behaviour.code, decline_code: behaviour.decline_code, message: behaviour.message, payment_method: structuredClone(pm) };
    ctx.emu.emit(ctx.account, 'setup_intent.setup_failed', si);
    throw new ApiError(402, 'card_error', behaviour.message, { code: behaviour.code, decline_code: behaviour.decline_code, setup_intent: structuredClone(si), payment_method: structuredClone(pm) });
  }
  if (behaviour.kind === 'three_ds') {
    si.status = 'requires_action';
    si.next_action = nextActionFor(ctx.emu, si.id, { useStripeSdk, returnUrl });
    ctx.emu.emit(ctx.account, 'setup_intent.requires_action', si);
    return si;
  }
  succeed(ctx.emu, ctx.account, si, pm);
  return si;
}

export function completeSetupAuthentication(emu: Emulator, account: AccountState, si: SetupIntent, success: boolean): void {
  const pm = si.payment_method ? account.get<PaymentMethod>('payment_method', si.payment_method) : undefined;
  if (si.status !== 'requires_action' || !pm) throw invalidRequest(`This SetupIntent is not awaiting authentication (status ${si.status}).`, { code: 'setup_intent_unexpected_state' });
  if (success) return succeed(emu, account, si, pm);
  si.status = 'requires_payment_method';
  si.next_action = null;
  si.payment_method = null;
  si.last_setup_error = {
    type: 'invalid_request_error',
    code: 'setup_intent_authentication_failure',
    message: 'The latest attempt to set up the payment method has failed because authentication failed.',
    payment_method: structuredClone(pm),
  };
  emu.emit(account, 'setup_intent.setup_failed', si);
}

const render = (ctx: Ctx, si: SetupIntent): unknown => (ctx.keyKind === 'publishable' ? restrictedSetupIntent(si) : si);

export function registerSetupIntents(r: Router): void {
  r.add('POST', '/v1/setup_intents', (ctx) => {
    const p = new Params(ctx.params, withTypes(ctx, CREATE));
    const customer = p.str('customer');
    if (customer) getCustomer(ctx.account, customer);
    refuseAutomaticWithExplicitTypes(p);
    const types = p.strArray('payment_method_types') ?? p.strArray('allowed_payment_method_types');
    const apmP = p.obj('automatic_payment_methods', ['enabled', 'allow_redirects']);
    const id = ctx.emu.ids.id('seti_');
    const si: SetupIntent = {
      id,
      object: 'setup_intent',
      created: ctx.emu.nowSeconds(),
      livemode: false,
      status: 'requires_payment_method',
      client_secret: `${id}_secret_${ctx.emu.ids.id('', 25)}`,
      customer: customer ?? null,
      description: p.str('description') ?? null,
      payment_method: null,
      payment_method_types: types ?? ['card'],
      usage: p.oneOf('usage', ['off_session', 'on_session']) ?? 'off_session',
      next_action: null,
      last_setup_error: null,
      cancellation_reason: null,
      metadata: p.metadata(),
      automatic_payment_methods: apmP ? { enabled: apmP.bool('enabled') ?? true, allow_redirects: apmP.oneOf('allow_redirects', ['always', 'never']) ?? 'always' } : types ? null : { enabled: true, allow_redirects: 'always' },
      latest_attempt: null,
      on_behalf_of: p.str('on_behalf_of') ?? null,
    };
    const doConfirm = p.bool('confirm') === true;
    const pmId = p.str('payment_method');
    if (pmId && !doConfirm) {
      si.payment_method = resolvePaymentMethod(ctx, pmId).id;
      si.status = 'requires_confirmation';
    }
    ctx.account.put('setup_intent', si);
    ctx.emu.own(si.id, ctx.account);
    ctx.emu.emit(ctx.account, 'setup_intent.created', si);
    if (doConfirm) confirm(ctx, si, p);
    return si;
  });
  r.add('GET', '/v1/setup_intents/:id', (ctx, [id]) => {
    new Params(ctx.params, ['client_secret']);
    return render(ctx, getSetupIntent(ctx, id as string));
  }, 'publishable');
  r.add('POST', '/v1/setup_intents/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, withTypes(ctx, ['customer', 'description', 'metadata', 'payment_method', 'payment_method_data', 'payment_method_options', 'allowed_payment_method_types', 'attach_to_self', 'flow_directions', 'excluded_payment_method_types']));
    const si = getSetupIntent(ctx, id as string);
    if (si.status === 'succeeded' || si.status === 'canceled') throw invalidRequest(`You cannot update this SetupIntent because it has a status of ${si.status}.`, { code: 'setup_intent_unexpected_state' });
    if (p.has('metadata')) si.metadata = p.metadata(si.metadata);
    if (p.has('description')) si.description = p.str('description') ?? null;
    if (p.has('customer')) si.customer = p.str('customer') ?? null;
    if (p.has('payment_method')) {
      const pmId = p.str('payment_method');
      si.payment_method = pmId ? resolvePaymentMethod(ctx, pmId).id : null;
      si.status = si.payment_method ? 'requires_confirmation' : 'requires_payment_method';
    }
    si.last_setup_error = null;
    return si;
  });
  r.add('POST', '/v1/setup_intents/:id/confirm', (ctx, [id]) => {
    const p = new Params(ctx.params, withTypes(ctx, ctx.keyKind === 'publishable' ? [...CONFIRM, 'client_secret'] : CONFIRM));
    const si = getSetupIntent(ctx, id as string);
    return render(ctx, confirm(ctx, si, p));
  }, 'publishable');
  r.add('POST', '/v1/setup_intents/:id/cancel', (ctx, [id]) => {
    const p = new Params(ctx.params, ['cancellation_reason']);
    const si = getSetupIntent(ctx, id as string);
    if (si.status === 'succeeded' || si.status === 'canceled' || si.status === 'processing') {
      throw invalidRequest(`You cannot cancel this SetupIntent because it has a status of ${si.status}.`, { code: 'setup_intent_unexpected_state' });
    }
    si.status = 'canceled';
    si.next_action = null;
    si.cancellation_reason = p.oneOf('cancellation_reason', ['abandoned', 'duplicate', 'requested_by_customer']) ?? null;
    ctx.emu.emit(ctx.account, 'setup_intent.canceled', si);
    return si;
  });
  r.add('GET', '/v1/setup_intents', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'customer', 'payment_method', 'attach_to_self', 'customer_account']);
    const customer = p.str('customer');
    const items = [...ctx.account.coll<SetupIntent>('setup_intent').values()].filter((si) => !customer || si.customer === customer);
    return paginate(items, p, '/v1/setup_intents');
  });
}
