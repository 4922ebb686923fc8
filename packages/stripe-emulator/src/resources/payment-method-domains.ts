import type { Emulator } from '../emulator';
import { invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params } from '../params';
import type { Ctx, Router } from '../router';
import type { PaymentMethodDomain, WalletStatus } from '../types';

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Apple Pay needs the domain verified; a control can make it fail per domain (§8.1). */
function applePay(emu: Emulator, domain: string): WalletStatus {
  const passes = emu.applePayVerification.get(domain) ?? emu.options.verifyApplePayDomain(domain);
  return passes
    ? { status: 'active' }
    : { status: 'inactive', status_details: { error_message: `The domain ${domain} could not be verified with Apple: the file /.well-known/apple-developer-merchantid-domain-association was not found.` } };
}

function get(ctx: Ctx, id: string): PaymentMethodDomain {
  const d = ctx.account.get<PaymentMethodDomain>('payment_method_domain', id);
  if (!d) throw resourceMissing('payment_method_domain', id, 'id');
  return d;
}

export function registerPaymentMethodDomains(r: Router): void {
  r.add('POST', '/v1/payment_method_domains', (ctx) => {
    const p = new Params(ctx.params, ['domain_name', 'enabled']);
    const domain = p.reqStr('domain_name').toLowerCase();
    if (!DOMAIN_RE.test(domain)) throw invalidRequest(`Invalid domain_name: ${domain}`, { param: 'domain_name' });
    const existing = [...ctx.account.coll<PaymentMethodDomain>('payment_method_domain').values()].find((d) => d.domain_name === domain);
    if (existing) {
      if (ctx.emu.options.duplicatePaymentMethodDomain === 'return_existing') return existing;
      throw invalidRequest(`A PaymentMethodDomain for ${domain} already exists on this account (${existing.id}).`, { param: 'domain_name', code: 'resource_already_exists' });
    }
    const active: WalletStatus = { status: 'active' };
    const d: PaymentMethodDomain = {
      id: ctx.emu.ids.id('pmd_'),
      object: 'payment_method_domain',
      created: ctx.emu.nowSeconds(),
      livemode: false,
      domain_name: domain,
      enabled: p.bool('enabled') ?? true,
      apple_pay: applePay(ctx.emu, domain),
      google_pay: { ...active },
      link: { ...active },
      paypal: { ...active },
      amazon_pay: { ...active },
      klarna: { ...active },
    };
    ctx.account.put('payment_method_domain', d);
    return d;
  });
  r.add('GET', '/v1/payment_method_domains/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return get(ctx, id as string);
  });
  r.add('POST', '/v1/payment_method_domains/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, ['enabled']);
    const d = get(ctx, id as string);
    const enabled = p.bool('enabled');
    if (enabled !== undefined) d.enabled = enabled;
    return d;
  });
  r.add('POST', '/v1/payment_method_domains/:id/validate', (ctx, [id]) => {
    new Params(ctx.params, []);
    const d = get(ctx, id as string);
    d.apple_pay = applePay(ctx.emu, d.domain_name);
    return d;
  });
  r.add('GET', '/v1/payment_method_domains', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'domain_name', 'enabled']);
    const name = p.str('domain_name')?.toLowerCase();
    const enabled = p.bool('enabled');
    const items = [...ctx.account.coll<PaymentMethodDomain>('payment_method_domain').values()].filter(
      (d) => (!name || d.domain_name === name) && (enabled === undefined || d.enabled === enabled),
    );
    return paginate(items, p, '/v1/payment_method_domains');
  });
}

interface ApplePayDomain {
  id: string;
  object: 'apple_pay_domain';
  domain_name: string;
  created: number;
  livemode: boolean;
}

/** The legacy Apple Pay domains API (§8.1), kept because older integrations still call it. */
export function registerApplePayDomains(r: Router): void {
  const get = (ctx: Ctx, id: string): ApplePayDomain => {
    const d = ctx.account.get<ApplePayDomain>('apple_pay_domain', id);
    if (!d) throw resourceMissing('apple_pay_domain', id, 'id');
    return d;
  };
  r.add('POST', '/v1/apple_pay/domains', (ctx) => {
    const p = new Params(ctx.params, ['domain_name']);
    const domain = p.reqStr('domain_name').toLowerCase();
    if (!DOMAIN_RE.test(domain)) throw invalidRequest(`Invalid domain_name: ${domain}`, { param: 'domain_name' });
    if (!(ctx.emu.applePayVerification.get(domain) ?? ctx.emu.options.verifyApplePayDomain(domain))) {
      throw invalidRequest(`Apple Pay could not verify ${domain}: host the domain association file first.`, { param: 'domain_name' });
    }
    return ctx.account.put<ApplePayDomain>('apple_pay_domain', { id: ctx.emu.ids.id('apwc_'), object: 'apple_pay_domain', domain_name: domain, created: ctx.emu.nowSeconds(), livemode: false });
  });
  r.add('GET', '/v1/apple_pay/domains/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return get(ctx, id as string);
  });
  r.add('DELETE', '/v1/apple_pay/domains/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    const d = get(ctx, id as string);
    ctx.account.coll('apple_pay_domain').delete(d.id);
    return { id: d.id, object: 'apple_pay_domain', deleted: true };
  });
  r.add('GET', '/v1/apple_pay/domains', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'domain_name']);
    const name = p.str('domain_name')?.toLowerCase();
    return paginate([...ctx.account.coll<ApplePayDomain>('apple_pay_domain').values()].filter((d) => !name || d.domain_name === name), p, '/v1/apple_pay/domains');
  });
}
