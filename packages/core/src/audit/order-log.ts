import type { DataSource } from 'typeorm';
import { formatMoney } from '../money/format';
import { money } from '../money/money';
import { actorNames } from '../persistence/log-read.store';
import { eventLogEntries, type EventLogRow } from '../persistence/event-log.store';
import { OrderReadStore } from '../persistence/order-read.store';
import type { ActorType } from './log-entry.entity';
import { coreLogSentences, describeLogEntry, type LogLocale, type LogObjectRef, type LogSentence } from './log-sentences';

/** A log entry as people read it: the sentence, with the code and details kept beside it. */
export interface ReadableLogEntry {
  id: string;
  /** The action code, e.g. "kassa.order.payment.confirmed". */
  action: string;
  sentence: string;
  actor: { type: ActorType; id: string | null; label: string };
  objectType: string;
  objectId: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface ReadableOrderLogOptions {
  organizerId: string;
  orderId: string;
  locale: LogLocale;
  /** Core's and the plugins' sentences (LoadedPlugins.logSentences); core's alone by default. */
  sentences?: Readonly<Record<string, LogSentence>>;
  /** A provider's public name for its identifier ("stripe" → "Stripe"). */
  providerName?: (identifier: string) => string;
  limit?: number;
}

const intlLocale: Record<LogLocale, string> = { en: 'en-GB', de: 'de-DE' };
const fixedActors: Record<LogLocale, Record<string, string>> = {
  en: { system: 'Kassa', buyer: 'the buyer', unknownUser: 'a removed user', unknownToken: 'a removed API token' },
  de: { system: 'Kassa', buyer: 'der Kundschaft', unknownUser: 'einem entfernten Benutzer', unknownToken: 'einem entfernten API-Token' },
};

/**
 * The order's log, newest first, with a sentence per entry in `locale` (the control panel's order
 * page, the API's GET /orders/:id/log). One read each for the entries, the order's rows and the
 * actors' names, however long the log.
 */
export async function readableOrderLog(ds: DataSource, opts: ReadableOrderLogOptions): Promise<ReadableLogEntry[]> {
  const reads = new OrderReadStore(ds);
  const order = await reads.order(opts.organizerId, opts.orderId);
  if (!order) return [];
  const [entries, parts] = await Promise.all([reads.log(opts.organizerId, opts.orderId, opts.limit ?? 100), reads.parts(opts.organizerId, opts.orderId)]);
  const names = await actorNames(ds, opts.organizerId, entries.map((e) => ({ type: e.actorType, id: e.actorId })));
  const ref = (r: LogObjectRef & { id: string }): [string, LogObjectRef] => [r.id, { localId: r.localId, amount: r.amount, currency: r.currency, provider: r.provider }];
  const payments = new Map(parts.payments.map(ref));
  const refunds = new Map(parts.refunds.map(ref));
  const positions = new Map(parts.positions.map((p) => [p.id, p.positionNo]));
  return readableEntries(entries, names, {
    locale: opts.locale, currency: order.currency, providerName: opts.providerName, sentences: opts.sentences, refs: { payments, refunds, positions },
  });
}


/** Entries with their sentence and their actor's label: shared by the order's and the event's log. */
function readableEntries(
  entries: readonly EventLogRow[], names: ReadonlyMap<string, string>,
  o: {
    locale: LogLocale; currency: string; providerName?: (identifier: string) => string; sentences?: Readonly<Record<string, LogSentence>>;
    refs?: { payments: ReadonlyMap<string, LogObjectRef>; refunds: ReadonlyMap<string, LogObjectRef>; positions: ReadonlyMap<string, number> };
  },
): ReadableLogEntry[] {
  const locale = intlLocale[o.locale];
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const providerName = o.providerName ?? ((id: string) => id);
  const actorLabel = actorLabeller(o.locale, names, providerName);
  return entries.map((e) => {
    const label = actorLabel(e.actorType, e.actorId);
    return {
      id: e.id, action: e.action, objectType: e.objectType, objectId: e.objectId, data: e.data, createdAt: e.createdAt,
      actor: { type: e.actorType, id: e.actorId, label },
      sentence: describeLogEntry(e, {
        locale: o.locale, currency: o.currency, actor: label, ...o.refs, providerName,
        formatMoney: (amount, currency) => formatMoney(money(amount, currency), locale),
        formatDate: (d) => `${dates.format(d)} UTC`,
      }, o.sentences ?? coreLogSentences),
    };
  });
}

/** How an entry names its actor in `locale`: an email, an API token's name, a provider's name, "Kassa". */
function actorLabeller(loc: LogLocale, names: ReadonlyMap<string, string>, providerName: (id: string) => string) {
  const fixed = fixedActors[loc];
  return (type: ActorType, id: string | null): string => {
    switch (type) {
      case 'user': return names.get(`user:${id}`) ?? fixed.unknownUser!;
      case 'api_token': {
        const name = names.get(`api_token:${id}`);
        if (!name) return fixed.unknownToken!;
        return loc === 'de' ? `API-Token „${name}“` : `API token “${name}”`;
      }
      case 'provider': return id ? providerName(id) : fixed.system!;
      case 'buyer': return fixed.buyer!;
      default: return fixed.system!;
    }
  };
}

export interface ReadableEventLogOptions {
  organizerId: string;
  eventId: string;
  /** The event's currency (for money in sentences). */
  currency: string;
  locale: LogLocale;
  sentences?: Readonly<Record<string, LogSentence>>;
  limit?: number;
}

/**
 * The event's own log (entries that concern no single order, e.g. the data shredder's run over the
 * event), newest first, with a sentence per entry like the order log.
 */
export async function readableEventLog(ds: DataSource, opts: ReadableEventLogOptions): Promise<ReadableLogEntry[]> {
  const entries = await eventLogEntries(ds, opts.organizerId, opts.eventId, opts.limit ?? 50);
  const names = await actorNames(ds, opts.organizerId, entries.map((e) => ({ type: e.actorType, id: e.actorId })));
  return readableEntries(entries, names, { locale: opts.locale, currency: opts.currency, sentences: opts.sentences });
}
