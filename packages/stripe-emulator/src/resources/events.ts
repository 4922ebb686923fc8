import { invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params } from '../params';
import type { Ctx, Router } from '../router';
import type { StripeEvent, WebhookEndpoint } from '../types';
import { ENABLED_EVENT_TYPES } from '../catalog/event-types';
import { isKnownApiVersion } from '../versions';

/** `charge.dispute.*` style wildcard matching for `type=` (§5.5). */
function typeMatcher(pattern: string): (t: string) => boolean {
  if (!pattern.includes('*')) return (t) => t === pattern;
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.]/g, '\\.')).join('.*')}$`);
  return (t) => re.test(t);
}

function visibleEvents(ctx: Ctx): StripeEvent[] {
  const own = ctx.account.events;
  if (ctx.account.platformId || !ctx.emu.options.platformEventsIncludeConnected) return own;
  const all = [...own];
  for (const a of ctx.emu.accounts.values()) if (a.platformId === ctx.account.id) all.push(...a.events);
  return all.sort((x, y) => x.created - y.created);
}

export function registerEvents(r: Router): void {
  r.add('GET', '/v1/events', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'type', 'types', 'delivery_success']);
    const type = p.str('type');
    const types = p.strArray('types');
    if (type && types) throw invalidRequest('You may only specify one of these parameters: type, types.', { code: 'parameters_exclusive', param: 'types' });
    if (types && types.length > 20) throw invalidRequest('You may pass at most 20 types.', { param: 'types' });
    const match = type ? typeMatcher(type) : types ? (t: string) => types.includes(t) : () => true;
    const delivery = p.bool('delivery_success');
    const cutoff = ctx.emu.nowSeconds() - 30 * 86400; // §5.5: only the last 30 days are listed
    const items = visibleEvents(ctx).filter(
      (e) => e.created >= cutoff && match(e.type) && (delivery === undefined || (delivery ? e.pending_webhooks === 0 : e.pending_webhooks > 0)),
    );
    return paginate(items, p, '/v1/events');
  });
  r.add('GET', '/v1/events/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    const e = ctx.account.events.find((x) => x.id === id);
    if (!e) throw resourceMissing('event', id as string, 'id');
    return e;
  });
}

const URL_RE = /^https?:\/\/[^\s/$.?#].[^\s]*$/i;

function enabledEvents(p: Params, required: boolean): string[] | undefined {
  const list = p.strArray('enabled_events');
  if (!list) {
    if (required) throw invalidRequest('Missing required param: enabled_events.', { code: 'parameter_missing', param: 'enabled_events' });
    return undefined;
  }
  list.forEach((e, i) => {
    // Stripe takes exact event types or '*' (no `charge.*` prefixes).
    if (!ENABLED_EVENT_TYPES.has(e)) throw invalidRequest(`Invalid enabled_events[${i}]: ${e} is not a valid event type.`, { param: `enabled_events[${i}]` });
  });
  return list;
}

function getEndpoint(ctx: Ctx, id: string): WebhookEndpoint {
  const we = ctx.account.get<WebhookEndpoint>('webhook_endpoint', id);
  if (!we) throw resourceMissing('webhook_endpoint', id, 'id');
  return we;
}

/** The secret is only returned on create, as Stripe does. */
const publicView = (we: WebhookEndpoint): WebhookEndpoint => {
  const { secret: _secret, ...rest } = we;
  return rest;
};

export function registerWebhookEndpoints(r: Router): void {
  r.add('POST', '/v1/webhook_endpoints', (ctx) => {
    const p = new Params(ctx.params, ['url', 'enabled_events', 'api_version', 'connect', 'description', 'metadata']);
    const url = p.reqStr('url');
    if (!URL_RE.test(url)) throw invalidRequest(`Invalid URL: ${url}`, { param: 'url', code: 'url_invalid' });
    const events = enabledEvents(p, true) as string[];
    const apiVersion = p.str('api_version');
    if (apiVersion && !isKnownApiVersion(ctx.emu, apiVersion)) throw invalidRequest(`Invalid api_version: ${apiVersion} is not a Stripe API version.`, { param: 'api_version' });
    if (ctx.account.endpoints().length >= 16) throw invalidRequest('You have reached the maximum of 16 test webhook endpoints.', { param: 'url' });
    const we: WebhookEndpoint = {
      id: ctx.emu.ids.id('we_'),
      object: 'webhook_endpoint',
      created: ctx.emu.nowSeconds(),
      livemode: false,
      url,
      enabled_events: events,
      api_version: apiVersion ?? null,
      application: null,
      connect: p.bool('connect') ?? false,
      description: p.str('description') ?? null,
      metadata: p.metadata(),
      status: 'enabled',
      secret: `whsec_${ctx.emu.ids.id('', 32)}`,
    };
    ctx.account.put('webhook_endpoint', we);
    ctx.emu.own(we.id, ctx.account);
    return we;
  });
  r.add('GET', '/v1/webhook_endpoints/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return publicView(getEndpoint(ctx, id as string));
  });
  r.add('POST', '/v1/webhook_endpoints/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, ['url', 'enabled_events', 'disabled', 'description', 'metadata']);
    const we = getEndpoint(ctx, id as string);
    const url = p.str('url');
    if (url) {
      if (!URL_RE.test(url)) throw invalidRequest(`Invalid URL: ${url}`, { param: 'url', code: 'url_invalid' });
      we.url = url;
    }
    const events = enabledEvents(p, false);
    if (events) we.enabled_events = events;
    const disabled = p.bool('disabled');
    if (disabled !== undefined) we.status = disabled ? 'disabled' : 'enabled';
    if (p.has('description')) we.description = p.str('description') ?? null;
    if (p.has('metadata')) we.metadata = p.metadata(we.metadata);
    return publicView(we);
  });
  r.add('DELETE', '/v1/webhook_endpoints/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    const we = getEndpoint(ctx, id as string);
    we.status = 'disabled'; // stops pending retries (§5.2)
    ctx.account.coll('webhook_endpoint').delete(we.id);
    return { id: we.id, object: 'webhook_endpoint', deleted: true };
  });
  r.add('GET', '/v1/webhook_endpoints', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS]);
    return paginate(ctx.account.endpoints().map(publicView), p, '/v1/webhook_endpoints');
  });
}
