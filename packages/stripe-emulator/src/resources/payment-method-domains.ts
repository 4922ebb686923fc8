import type { Emulator } from '../emulator';
import { invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params } from '../params';
import type { Ctx, Router } from '../router';
import type { PaymentMethodDomain, WalletStatus } from '../types';

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export const APPLE_WELL_KNOWN_PATH = '/.well-known/apple-developer-merchantid-domain-association';

/**
 * Apple Pay needs the domain verified (§8.1). A control can force the outcome per domain; with
 * `fetchDomainFile` the association file must be fetchable from the domain; otherwise
 * `verifyApplePayDomain` decides. The error message says what failed, as Stripe's status_details do.
 */
export async function verifyApplePay(emu: Emulator, domain: string): Promise<WalletStatus> {
  const forced = emu.applePayVerification.get(domain);
  const inactive = (why: string): WalletStatus => ({ status: 'inactive', status_details: { error_message: `Apple Pay could not verify ${domain}: ${why}` } });
  if (forced !== undefined) return forced ? { status: 'active' } : inactive(`the file ${APPLE_WELL_KNOWN_PATH} was not found.`);
  const fetchFile = emu.options.fetchDomainFile;
  if (fetchFile) {
    const url = `https://${domain}${APPLE_WELL_KNOWN_PATH}`;
    let res: { status: number; body: string };
    try {
      res = await fetchFile(url);
    } catch (err) {
      return inactive(`fetching ${url} failed (${(err as Error).message}).`);
    }
    if (res.status < 200 || res.status > 299) return inactive(`GET ${url} answered HTTP ${res.status}; host the domain association file there, then validate again.`);
    if (!res.body.trim()) return inactive(`GET ${url} answered an empty file; host the domain association file there, then validate again.`);
    return { status: 'active' };
  }
  return (await emu.options.verifyApplePayDomain(domain)) ? { status: 'active' } : inactive(`the file ${APPLE_WELL_KNOWN_PATH} was not found.`);
}

const findByName = (ctx: Ctx, domain: string): PaymentMethodDomain | undefined =>
  [...ctx.account.coll<PaymentMethodDomain>('payment_method_domain').values()].find((d) => d.domain_name === domain);

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
    const enabled = p.bool('enabled') ?? true;
    const duplicate = (): PaymentMethodDomain | undefined => {
      const existing = findByName(ctx, domain);
      if (!existing) return undefined;
      if (ctx.emu.options.duplicatePaymentMethodDomain === 'return_existing') return existing;
      throw invalidRequest(`A PaymentMethodDomain for ${domain} already exists on this account (${existing.id}).`, { param: 'domain_name', code: 'resource_already_exists' });
    };
    const before = duplicate();
    if (before) return before;
    // Registration tries Apple's verification at once (§8.1); a failure leaves Apple Pay inactive.
    return verifyApplePay(ctx.emu, domain).then((applePay) => {
      // Checked again: another registration of the same domain may have finished while this one verified.
      const raced = duplicate();
      if (raced) return raced;
      const active: WalletStatus = { status: 'active' };
      const d: PaymentMethodDomain = {
        id: ctx.emu.ids.id('pmd_'),
        object: 'payment_method_domain',
        created: ctx.emu.nowSeconds(),
        livemode: false,
        domain_name: domain,
        enabled,
        apple_pay: applePay,
        google_pay: { ...active },
        link: { ...active },
        paypal: { ...active },
        amazon_pay: { ...active },
        klarna: { ...active },
      };
      ctx.account.put('payment_method_domain', d);
      ctx.emu.own(d.id, ctx.account);
      return d;
    });
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
    return verifyApplePay(ctx.emu, d.domain_name).then((status) => {
      d.apple_pay = status;
      return d;
    });
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
    // The legacy API registers only domains that already pass Apple's verification (§8.1).
    return verifyApplePay(ctx.emu, domain).then((status) => {
      if (status.status !== 'active') throw invalidRequest(status.status_details?.error_message ?? `Apple Pay could not verify ${domain}.`, { param: 'domain_name' });
      return ctx.account.put<ApplePayDomain>('apple_pay_domain', { id: ctx.emu.ids.id('apwc_'), object: 'apple_pay_domain', domain_name: domain, created: ctx.emu.nowSeconds(), livemode: false });
    });
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
