import { resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params } from '../params';
import type { Router } from '../router';
import type { AccountState } from '../store';
import type { Customer } from '../types';

const CREATE = ['address', 'balance', 'description', 'email', 'metadata', 'name', 'phone', 'payment_method', 'preferred_locales', 'shipping', 'invoice_settings', 'tax_exempt', 'test_clock', 'business_name', 'individual_name', 'validate'];

export function getCustomer(account: AccountState, id: string, param = 'customer'): Customer {
  const c = account.get<Customer>('customer', id);
  if (!c || c.deleted) throw resourceMissing('customer', id, param);
  return c;
}

export function registerCustomers(r: Router): void {
  r.add('POST', '/v1/customers', (ctx) => {
    const p = new Params(ctx.params, CREATE);
    const c: Customer = {
      id: ctx.emu.ids.id('cus_', 14),
      object: 'customer',
      created: ctx.emu.nowSeconds(),
      livemode: false,
      email: p.str('email') ?? null,
      name: p.str('name') ?? null,
      description: p.str('description') ?? null,
      phone: p.str('phone') ?? null,
      metadata: p.metadata(),
      invoice_settings: { default_payment_method: p.obj('invoice_settings', ['default_payment_method', 'custom_fields', 'footer', 'rendering_options'])?.str('default_payment_method') ?? null },
    };
    ctx.account.put('customer', c);
    ctx.emu.emit(ctx.account, 'customer.created', c);
    return c;
  });
  r.add('GET', '/v1/customers/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getCustomer(ctx.account, id as string, 'id');
  });
  r.add('POST', '/v1/customers/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, CREATE.filter((k) => k !== 'payment_method'));
    const c = getCustomer(ctx.account, id as string, 'id');
    const previous: Record<string, unknown> = {};
    for (const k of ['email', 'name', 'description', 'phone'] as const) {
      if (p.has(k)) {
        previous[k] = c[k];
        c[k] = p.str(k) ?? null;
      }
    }
    if (p.has('metadata')) {
      previous.metadata = c.metadata;
      c.metadata = p.metadata(c.metadata);
    }
    const inv = p.obj('invoice_settings', ['default_payment_method', 'custom_fields', 'footer', 'rendering_options']);
    if (inv?.has('default_payment_method')) {
      previous.invoice_settings = { ...c.invoice_settings };
      c.invoice_settings.default_payment_method = inv.str('default_payment_method') ?? null;
    }
    ctx.emu.emit(ctx.account, 'customer.updated', c, previous);
    return c;
  });
  r.add('DELETE', '/v1/customers/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    const c = getCustomer(ctx.account, id as string, 'id');
    c.deleted = true;
    ctx.emu.emit(ctx.account, 'customer.deleted', c);
    return { id: c.id, object: 'customer', deleted: true };
  });
  r.add('GET', '/v1/customers', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'email', 'test_clock']);
    const email = p.str('email');
    const items = [...ctx.account.coll<Customer>('customer').values()].filter((c) => !c.deleted && (!email || c.email === email));
    return paginate(items, p, '/v1/customers');
  });
}
