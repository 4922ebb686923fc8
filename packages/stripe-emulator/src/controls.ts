import type { Emulator, Fault } from './emulator';
import { invalidRequest, resourceMissing } from './errors';
import { expire } from './idempotency';
import { Params } from './params';
import { completeOnboarding, refreshAccount } from './resources/accounts';
import { automaticPayout, settlePayout } from './resources/connect-money';
import { deauthorize } from './resources/oauth';
import { parseRequirementErrors } from './resources/requirements';
import { advanceDispute, createDispute } from './resources/disputes';
import { completeAuthentication, expireAuthorization, settleDebit } from './resources/payment-intent-flow';
import { failRefund, succeedRefund } from './resources/refunds';
import { EMULATOR_NOTICE } from './notice';
import type { Ctx, Router } from './router';
import type { AccountState } from './store';
import type { Charge, Dispute, DisputeStatus, PaymentIntent, PaymentMethod, PaymentMethodDomain, Payout, Refund, WebhookEndpoint } from './types';
import type { WebhookOptions } from './options';
import { applyChaos } from './chaos';
import type { ResolvedRateLimit } from './rate-limit';
import { chargeReport, reportAccount } from './stats';

function positive(p: Params, key: string): number {
  const v = Number(p.str(key));
  if (!(v > 0) || !Number.isFinite(v)) throw invalidRequest(`${key} must be a positive number.`, { param: key });
  return v;
}

/** Finds the account that owns an object id, wherever it lives (controls need no API key). */
function owned<T>(emu: Emulator, collection: string, id: string): { account: AccountState; obj: T } {
  const account = emu.ownerOf(id);
  const obj = account?.get(collection, id) as T | undefined;
  if (!account || !obj) throw resourceMissing(collection, id, 'id');
  return { account, obj };
}

/**
 * Moves the emulator clock forward and applies what time does at Stripe: authorizations
 * older than the window expire (§1.3), disputes past `due_by` without a response are lost
 * (inquiries close). Account links and OAuth codes expire by their own timestamps.
 */
export function advanceClock(emu: Emulator, seconds: number): { now: number; expired_authorizations: string[]; closed_disputes: string[] } {
  emu.clockOffsetMs += seconds * 1000;
  const now = emu.nowSeconds();
  const expired: string[] = [];
  const closed: string[] = [];
  const window = emu.options.authorizationWindowDays * 86400;
  for (const account of [...emu.accounts.values()]) {
    for (const pi of [...account.coll<PaymentIntent>('payment_intent').values()]) {
      if (pi.status !== 'requires_capture') continue;
      const ch = pi.latest_charge ? account.get<Charge>('charge', pi.latest_charge) : undefined;
      if (ch && ch.created + window <= now) {
        expireAuthorization(emu, account, pi, emu.options.defaultApiVersion);
        expired.push(pi.id);
      }
    }
    // Requirements whose deadline passed become past due and disable the account (§9.1).
    const r = account.account.requirements;
    if (account.platformId && r.current_deadline !== null && r.current_deadline <= now) refreshAccount(emu, account);
    for (const d of [...account.coll<Dispute>('dispute').values()]) {
      if ((d.status === 'needs_response' || d.status === 'warning_needs_response') && d.evidence_details.due_by <= now) {
        d.evidence_details.past_due = true;
        advanceDispute(emu, account, d, d.status === 'needs_response' ? 'lost' : 'warning_closed');
        closed.push(d.id);
      }
    }
  }
  return { now, expired_authorizations: expired, closed_disputes: closed };
}

const FAULT_KINDS: Fault['kind'][] = ['error_500', 'rate_limit_429', 'lock_timeout_429', 'conflict_409', 'timeout', 'timeout_after_commit', 'drop_after_commit', 'slow'];

/**
 * The `/_emulator/` test API: drive the "later" and external parts of Stripe (disputes,
 * refund failures, authorization expiry, 3DS, webhook retries, faults) without waiting.
 */
export function registerControls(r: Router): void {
  const add = (method: string, path: string, h: (ctx: Ctx, args: string[]) => unknown) => r.add(method, `/_emulator${path}`, h, 'none');

  add('GET', '/info', (ctx) => {
    const key = ctx.query.get('key');
    const platform = key?.startsWith('sk_test_') ? ctx.emu.platformForKey(key) : undefined;
    return {
      emulator: 'kassa-stripe-emulator',
      notice: EMULATOR_NOTICE,
      default_api_version: ctx.emu.options.defaultApiVersion,
      stripe_js_url: `${ctx.emu.baseUrl}/v3/`,
      ...(platform ? { account: platform.id, publishable_key: platform.publishableKey, client_id: platform.clientId } : {}),
    };
  });
  add('POST', '/reset', (ctx) => {
    ctx.emu.reset();
    return { reset: true };
  });
  add('POST', '/run_pending', (ctx) => {
    const p = new Params(ctx.params, ['filter']);
    const filter = p.str('filter');
    return { ran: ctx.emu.scheduler.runPending(filter ? (l) => l.includes(filter) : undefined) };
  });
  add('GET', '/pending', (ctx) => ({ pending: ctx.emu.scheduler.pending() }));

  add('POST', '/clock/advance', (ctx) => {
    const p = new Params(ctx.params, ['seconds']);
    const seconds = p.reqInt('seconds');
    if (seconds < 0) throw invalidRequest('The clock only moves forward.', { param: 'seconds' });
    return advanceClock(ctx.emu, seconds);
  });
  add('GET', '/clock', (ctx) => ({ now: ctx.emu.nowSeconds(), offset_seconds: Math.floor(ctx.emu.clockOffsetMs / 1000) }));
  add('POST', '/payment_intents/:id/expire', (ctx, [id]) => {
    const { account, obj } = owned<PaymentIntent>(ctx.emu, 'payment_intent', id as string);
    expireAuthorization(ctx.emu, account, obj, ctx.apiVersion);
    return obj;
  });
  add('POST', '/payment_intents/:id/settle', (ctx, [id]) => {
    const p = new Params(ctx.params, ['outcome']);
    const { account, obj } = owned<PaymentIntent>(ctx.emu, 'payment_intent', id as string);
    settleDebit(ctx.emu, account, obj, (p.oneOf('outcome', ['succeeded', 'failed']) ?? 'succeeded') === 'succeeded');
    return obj;
  });
  add('POST', '/payment_intents/:id/authenticate', (ctx, [id]) => {
    const p = new Params(ctx.params, ['result']);
    const { account, obj } = owned<PaymentIntent>(ctx.emu, 'payment_intent', id as string);
    completeAuthentication(ctx.emu, account, obj, (p.oneOf('result', ['complete', 'fail']) ?? 'complete') === 'complete');
    return obj;
  });
  add('POST', '/charges/:id/dispute', (ctx, [id]) => {
    const p = new Params(ctx.params, ['kind', 'reason', 'amount']);
    const { account, obj } = owned<Charge>(ctx.emu, 'charge', id as string);
    if (!obj.captured) throw invalidRequest('Only a captured charge can be disputed.', { param: 'charge' });
    return createDispute(ctx.emu, account, obj, p.oneOf('kind', ['chargeback', 'inquiry']) ?? 'chargeback', p.str('reason') ?? 'fraudulent', p.int('amount') ?? obj.amount_captured);
  });
  add('POST', '/disputes/:id/advance', (ctx, [id]) => {
    const p = new Params(ctx.params, ['to']);
    const { account, obj } = owned<Dispute>(ctx.emu, 'dispute', id as string);
    const to = p.oneOf('to', ['warning_under_review', 'warning_closed', 'under_review', 'won', 'lost', 'prevented', 'escalate'], true) as DisputeStatus | 'escalate';
    return advanceDispute(ctx.emu, account, obj, to);
  });
  add('POST', '/refunds/:id/fail', (ctx, [id]) => {
    const p = new Params(ctx.params, ['failure_reason']);
    const { account, obj } = owned<Refund>(ctx.emu, 'refund', id as string);
    return failRefund(ctx.emu, account, obj, p.str('failure_reason') ?? 'declined');
  });
  add('POST', '/refunds/:id/succeed', (ctx, [id]) => {
    const { account, obj } = owned<Refund>(ctx.emu, 'refund', id as string);
    return succeedRefund(ctx.emu, account, obj);
  });
  add('POST', '/payouts/:id/:outcome', (ctx, [id, outcome]) => {
    const p = new Params(ctx.params, ['failure_code']);
    const { account, obj } = owned<Payout>(ctx.emu, 'payout', id as string);
    if (outcome !== 'paid' && outcome !== 'fail') throw invalidRequest('Use /paid or /fail.', { param: 'outcome' });
    return settlePayout(ctx.emu, account, obj, outcome === 'paid' ? 'paid' : 'failed', p.str('failure_code'));
  });
  add('POST', '/accounts/:id/complete_onboarding', (ctx, [id]) => {
    const state = ctx.emu.account(id as string);
    if (!state) throw resourceMissing('account', id as string, 'id');
    return completeOnboarding(ctx.emu, state);
  });
  add('POST', '/accounts/:id/requirements', (ctx, [id]) => {
    const p = new Params(ctx.params, ['currently_due', 'past_due', 'eventually_due', 'pending_verification', 'current_deadline', 'deadline_in_seconds', 'errors', 'disabled_reason']);
    const state = ctx.emu.account(id as string);
    if (!state) throw resourceMissing('account', id as string, 'id');
    const previous = { requirements: structuredClone(state.account.requirements) };
    const req = state.account.requirements;
    // Lists not sent stay as they are, so a test can add a new requirement to an onboarded account.
    if (p.has('currently_due')) req.currently_due = p.strArray('currently_due') ?? [];
    if (p.has('past_due')) req.past_due = p.strArray('past_due') ?? [];
    if (p.has('eventually_due')) req.eventually_due = p.strArray('eventually_due') ?? [];
    if (p.has('pending_verification')) req.pending_verification = p.strArray('pending_verification') ?? [];
    if (p.has('errors')) req.errors = parseRequirementErrors(ctx.params.errors);
    const inSeconds = p.int('deadline_in_seconds');
    if (p.has('current_deadline') || inSeconds !== undefined) req.current_deadline = inSeconds !== undefined ? ctx.emu.nowSeconds() + inSeconds : (p.int('current_deadline') ?? null);
    if (p.has('disabled_reason')) req.disabled_reason = p.str('disabled_reason') ?? null;
    else if (req.disabled_reason?.startsWith('rejected.')) req.disabled_reason = null;
    refreshAccount(ctx.emu, state, previous, true);
    return state.account;
  });
  add('POST', '/accounts/:id/deauthorize', (ctx, [id]) => {
    const state = ctx.emu.account(id as string);
    if (!state?.platformId) throw resourceMissing('account', id as string, 'id');
    const platform = ctx.emu.account(state.platformId) as AccountState;
    deauthorize(ctx.emu, platform, state);
    return { stripe_user_id: state.id, deauthorized: true };
  });
  add('POST', '/accounts/:id/payout', (ctx, [id]) => {
    const p = new Params(ctx.params, ['currency']);
    const state = ctx.emu.account(id as string);
    if (!state) throw resourceMissing('account', id as string, 'id');
    return automaticPayout(ctx.emu, state, p.str('currency')?.toLowerCase());
  });
  add('POST', '/apple_pay_verification', (ctx) => {
    const p = new Params(ctx.params, ['domain_name', 'passes']);
    ctx.emu.applePayVerification.set(p.reqStr('domain_name').toLowerCase(), p.bool('passes') ?? true);
    return { domain_name: p.reqStr('domain_name'), passes: p.bool('passes') ?? true };
  });
  add('POST', '/payment_method_domains/:id/wallet_status', (ctx, [id]) => {
    const p = new Params(ctx.params, ['wallet', 'status', 'error_message']);
    const { obj } = owned<PaymentMethodDomain>(ctx.emu, 'payment_method_domain', id as string);
    const wallet = p.oneOf('wallet', ['apple_pay', 'google_pay', 'link', 'paypal', 'amazon_pay', 'klarna'], true) as 'apple_pay';
    const status = p.oneOf('status', ['active', 'inactive'], true) as 'active' | 'inactive';
    obj[wallet] = status === 'active' ? { status } : { status, status_details: { error_message: p.str('error_message') ?? `${wallet} is not available on ${obj.domain_name}.` } };
    return obj;
  });
  // The card network updated a saved card (new expiry, sometimes a new number): payment_method.automatically_updated.
  add('POST', '/payment_methods/:id/automatically_update', (ctx, [id]) => {
    const p = new Params(ctx.params, ['exp_month', 'exp_year', 'number']);
    const { account, obj } = owned<PaymentMethod>(ctx.emu, 'payment_method', id as string);
    if (!obj.card) throw invalidRequest('Only card PaymentMethods are updated by the network.', { param: 'id' });
    const previous = { card: { ...obj.card } };
    const card = { ...obj.card };
    const now = new Date(ctx.emu.nowMs());
    card.exp_month = p.int('exp_month') ?? card.exp_month;
    card.exp_year = p.int('exp_year') ?? now.getUTCFullYear() + 3;
    const number = p.str('number');
    if (number) {
      account.cardNumbers.set(obj.id, number);
      card.last4 = number.slice(-4);
    }
    obj.card = card;
    ctx.emu.emit(account, 'payment_method.automatically_updated', obj, previous);
    return obj;
  });
  add('POST', '/idempotency/expire', (ctx) => {
    const p = new Params(ctx.params, ['older_than_seconds']);
    let n = 0;
    for (const a of ctx.emu.accounts.values()) n += expire(a.idempotency, (p.int('older_than_seconds') ?? 0) * 1000);
    return { expired: n };
  });

  add('POST', '/events/trigger', (ctx) => {
    const p = new Params(ctx.params, ['type', 'account', 'key', 'object']);
    const key = p.str('key');
    const accountId = p.str('account');
    const account = accountId ? ctx.emu.account(accountId) : key ? ctx.emu.platformForKey(key) : undefined;
    if (!account) throw invalidRequest('Pass `key` (an sk_test_ key) or `account` to choose the account.', { param: 'key' });
    const type = p.reqStr('type');
    const object = p.loose('object') ?? { id: ctx.emu.ids.id('obj_'), object: type.split('.')[0] };
    return ctx.emu.emit(account, type, object, undefined, ctx.emu.options.defaultApiVersion);
  });

  add('POST', '/webhook_endpoints/:id/roll_secret', (ctx, [id]) => {
    const p = new Params(ctx.params, ['expires_in_seconds']);
    const { account, obj } = owned<WebhookEndpoint>(ctx.emu, 'webhook_endpoint', id as string);
    const grace = p.int('expires_in_seconds') ?? 86400;
    const list = account.rolledSecrets.get(obj.id) ?? [];
    if (grace > 0) list.push({ secret: obj.secret as string, expiresAt: ctx.emu.nowMs() + grace * 1000 });
    account.rolledSecrets.set(obj.id, list);
    obj.secret = `whsec_${ctx.emu.ids.id('', 32)}`;
    return { id: obj.id, secret: obj.secret, previous_secrets_expire_in_seconds: grace };
  });
  add('POST', '/webhooks/config', (ctx) => {
    const p = new Params(ctx.params, ['delay_ms', 'retry_delays_ms', 'timeout_ms', 'duplicate_rate', 'drop_rate', 'reorder', 'v0_decoy']);
    const patch: Partial<WebhookOptions> = {};
    if (p.has('delay_ms')) patch.delayMs = p.int('delay_ms');
    if (p.has('timeout_ms')) patch.timeoutMs = p.int('timeout_ms');
    if (p.has('retry_delays_ms')) patch.retryDelaysMs = (p.strArray('retry_delays_ms') ?? []).map(Number);
    if (p.has('duplicate_rate')) patch.duplicateRate = Number(p.str('duplicate_rate'));
    if (p.has('drop_rate')) patch.dropRate = Number(p.str('drop_rate'));
    if (p.has('reorder')) {
      const v = p.oneOf('reorder', ['false', 'reverse', 'shuffle']);
      patch.reorder = v === 'false' ? false : (v as 'reverse' | 'shuffle');
    }
    if (p.has('v0_decoy')) patch.v0Decoy = p.bool('v0_decoy');
    return ctx.emu.delivery.configure(patch);
  });
  add('POST', '/webhooks/flush', async (ctx) => {
    ctx.emu.delivery.retryNow();
    await ctx.emu.delivery.waitForIdle();
    return { deliveries: ctx.emu.delivery.log.length };
  });
  add('GET', '/webhooks/deliveries', (ctx) => ({ object: 'list', data: ctx.emu.delivery.log }));

  add('GET', '/faults', (ctx) => ({ object: 'list', data: ctx.emu.faults }));
  add('DELETE', '/faults', (ctx) => {
    ctx.emu.faults = [];
    return { deleted: true };
  });
  add('POST', '/faults', (ctx) => {
    const p = new Params(ctx.params, ['kind', 'rate', 'count', 'path', 'method', 'should_retry', 'delay_ms']);
    const rate = p.has('rate') ? Number(p.str('rate')) : 1;
    if (!(rate >= 0 && rate <= 1)) throw invalidRequest('rate must be between 0 and 1.', { param: 'rate' });
    const fault: Fault = {
      id: ctx.emu.ids.id('flt_', 10),
      kind: p.oneOf('kind', FAULT_KINDS, true) as Fault['kind'],
      rate,
      remaining: p.int('count') ?? null,
      path: p.str('path'),
      method: p.str('method')?.toUpperCase(),
      shouldRetry: p.bool('should_retry'),
      delayMs: p.int('delay_ms'),
    };
    ctx.emu.faults.push(fault);
    return fault;
  });
  add('GET', '/errors', (ctx) => ({ errors: ctx.emu.errors }));

  add('POST', '/chaos', (ctx) => {
    const p = new Params(ctx.params, ['error_500', 'timeout', 'timeout_after_commit', 'path']);
    const share = (k: string): number | undefined => (p.has(k) ? Number(p.str(k)) : undefined);
    return { object: 'list', data: applyChaos(ctx.emu, { error500: share('error_500'), timeout: share('timeout'), timeoutAfterCommit: share('timeout_after_commit'), path: p.str('path') }) };
  });
  add('DELETE', '/chaos', (ctx) => {
    ctx.emu.faults = ctx.emu.faults.filter((f) => f.tag !== 'chaos');
    return { deleted: true };
  });
  add('GET', '/rate_limit', (ctx) => ctx.emu.rateLimiter.view());
  add('POST', '/rate_limit', (ctx) => {
    const p = new Params(ctx.params, ['enabled', 'mode', 'rate_per_second', 'burst', 'should_retry', 'account', 'key']);
    const patch: Partial<ResolvedRateLimit> = {};
    if (p.has('enabled')) patch.enabled = p.bool('enabled');
    if (p.has('mode')) patch.mode = p.oneOf('mode', ['test', 'live']);
    if (p.has('burst')) patch.burst = positive(p, 'burst');
    if (p.has('should_retry')) patch.shouldRetry = p.bool('should_retry');
    const target = reportAccount(ctx.emu, p.str('account'), p.str('key'));
    if (p.has('rate_per_second')) {
      // With an account (or key) the rate is that account's own; otherwise the default for all.
      if (target) patch.accounts = { [target.id]: positive(p, 'rate_per_second') };
      else patch.ratePerSecond = positive(p, 'rate_per_second');
    }
    ctx.emu.rateLimiter.configure(patch);
    return ctx.emu.rateLimiter.view();
  });
  add('GET', '/stats', (ctx) => ctx.emu.stats.view());
  add('DELETE', '/stats', (ctx) => {
    ctx.emu.stats.reset();
    return { deleted: true };
  });
  add('GET', '/charges/report', (ctx) => {
    const p = new Params(ctx.params, ['account', 'key', 'metadata_key']);
    const account = reportAccount(ctx.emu, p.str('account'), p.str('key'));
    if (!account) throw invalidRequest('Pass `key` (an sk_test_ key) or `account` to choose the account.', { param: 'key' });
    return chargeReport(account, p.str('metadata_key'));
  });
}
