/**
 * Human sentences for log action codes, in English and German (pretix's log display): the order
 * log and the API say "Payment P-2 of €45.00 confirmed by Stripe" and keep the code as a detail.
 *
 * A template names details in braces ({payment}, {amount}, {actor}…, see `placeholders` below);
 * a part in square brackets is left out when a detail inside it is missing, so
 * "Order canceled by {actor}[, keeping a cancellation fee of {fee}]" reads well with and without
 * a fee. Plugins contribute sentences for their own codes through their definition
 * (`logSentences`); a test fails when a code that Kassa writes has no sentence.
 */
export interface LogSentence {
  readonly en: string;
  readonly de: string;
}

export const logLocales = ['en', 'de'] as const;
export type LogLocale = (typeof logLocales)[number];

/** Core's sentences, by action code. */
export const coreLogSentences: Readonly<Record<string, LogSentence>> = {
  'kassa.order.placed': { en: 'Order placed by {actor}', de: 'Bestellung aufgegeben von {actor}' },
  'kassa.order.paid': { en: 'Order paid in full, recorded by {actor}', de: 'Bestellung vollständig bezahlt, erfasst von {actor}' },
  'kassa.order.expired': { en: 'Order marked as expired by {actor}', de: 'Bestellung als abgelaufen markiert von {actor}' },
  'kassa.order.expirychanged': { en: 'Payment deadline set to {expires} by {actor}', de: 'Zahlungsfrist auf {expires} gesetzt von {actor}' },
  'kassa.order.unpaid': { en: 'Order set back to pending by {actor}', de: 'Bestellung auf unbezahlt zurückgesetzt von {actor}' },
  'kassa.order.canceled': {
    en: 'Order canceled by {actor}[, keeping a cancellation fee of {fee}]',
    de: 'Bestellung storniert von {actor}[, Stornogebühr von {fee} einbehalten]',
  },
  'kassa.order.overbooked': {
    en: 'Order marked as paid beyond its quota (overbooked) by {actor}[: {reason}]',
    de: 'Bestellung über das Kontingent hinaus als bezahlt markiert (überbucht) von {actor}[: {reason}]',
  },
  'kassa.order.overpaid': { en: 'Order is overpaid[ by {overpaid}]', de: 'Bestellung ist überbezahlt[ um {overpaid}]' },
  'kassa.order.quotaexceeded': {
    en: 'Payment[ {payment}] arrived, but the order could not be marked as paid[: {reason}]',
    de: 'Zahlung[ {payment}] eingegangen, aber die Bestellung konnte nicht als bezahlt markiert werden[: {reason}]',
  },
  'kassa.order.refund.requested': {
    en: 'Refund of {amount} owed to the buyer, waiting for a decision by the organizer',
    de: 'Erstattung von {amount} an die Kundschaft offen, wartet auf eine Entscheidung des Veranstalters',
  },
  'kassa.order.shredded': { en: 'Personal data removed by {actor}', de: 'Personenbezogene Daten entfernt von {actor}' },
  'kassa.event.shredded': {
    en: 'Personal data of {orders} orders of this event removed by {actor}',
    de: 'Personenbezogene Daten von {orders} Bestellungen dieser Veranstaltung entfernt von {actor}',
  },
  'kassa.order.changed': {
    en: 'Order changed by {actor}[: total {previousTotal} → {total}]',
    de: 'Bestellung geändert von {actor}[: Summe {previousTotal} → {total}]',
  },
  'kassa.order.changed.cancel_position': { en: 'Position[ {position}] canceled by {actor}', de: 'Position[ {position}] storniert von {actor}' },
  'kassa.order.changed.change_price': {
    en: 'Price of position[ {position}] changed[ from {fromPrice}] to {toPrice} by {actor}',
    de: 'Preis von Position[ {position}] geändert[ von {fromPrice}] auf {toPrice} von {actor}',
  },
  'kassa.order.changed.change_product': {
    en: 'Product of position[ {position}] changed[ ({toPrice})] by {actor}',
    de: 'Produkt von Position[ {position}] geändert[ ({toPrice})] von {actor}',
  },
  'kassa.order.changed.add_position': { en: 'Position[ {position}] added[ for {price}] by {actor}', de: 'Position[ {position}] hinzugefügt[ für {price}] von {actor}' },
  'kassa.order.payment.started': {
    en: 'Payment {payment} of {amount}[ with {provider}] started by {actor}',
    de: 'Zahlung {payment} über {amount}[ mit {provider}] begonnen von {actor}',
  },
  'kassa.order.payment.changed': {
    en: 'Payment method changed to {provider} by {actor} (payment {payment} of {amount})',
    de: 'Zahlungsart auf {provider} geändert von {actor} (Zahlung {payment} über {amount})',
  },
  'kassa.order.payment.confirmed': { en: 'Payment {payment} of {amount} confirmed by {actor}', de: 'Zahlung {payment} über {amount} bestätigt von {actor}' },
  'kassa.order.payment.pending': {
    en: 'Payment {payment} of {amount} is pending[ at {provider}]', de: 'Zahlung {payment} über {amount} ist in Bearbeitung[ bei {provider}]',
  },
  'kassa.order.payment.failed': { en: 'Payment {payment} of {amount} failed[: {message}]', de: 'Zahlung {payment} über {amount} fehlgeschlagen[: {message}]' },
  'kassa.order.payment.canceled': { en: 'Payment {payment} of {amount} canceled by {actor}', de: 'Zahlung {payment} über {amount} abgebrochen von {actor}' },
  'kassa.order.payment.canceled.failed': {
    en: 'Canceling payment {payment}[ at {provider}] failed[: {message}]', de: 'Abbruch der Zahlung {payment}[ bei {provider}] fehlgeschlagen[: {message}]',
  },
  'kassa.order.payment.refunded': { en: 'Payment {payment} of {amount} fully refunded', de: 'Zahlung {payment} über {amount} vollständig erstattet' },
  'kassa.order.payment.unrefunded': {
    en: 'Payment {payment} of {amount} is no longer fully refunded', de: 'Zahlung {payment} über {amount} ist nicht mehr vollständig erstattet',
  },
  'kassa.order.payment.action_required': {
    en: 'Payment {payment} of {amount} waits for the buyer (e.g. 3-D Secure)', de: 'Zahlung {payment} über {amount} wartet auf die Kundschaft (z. B. 3-D Secure)',
  },
  'kassa.order.payment.on_closed_order': {
    en: 'Payment {payment} of {amount} arrived for an order that is closed[: {reason}]',
    de: 'Zahlung {payment} über {amount} für eine geschlossene Bestellung eingegangen[: {reason}]',
  },
  'kassa.order.payment.amount_reduced': {
    en: 'Open payment {payment} reduced to {amount} by {actor}', de: 'Offene Zahlung {payment} auf {amount} verringert von {actor}',
  },
  'kassa.order.payment.amount_changed': {
    en: 'Open payment {payment} changed to {amount} by {actor}', de: 'Offene Zahlung {payment} auf {amount} geändert von {actor}',
  },
  'kassa.order.refund.created': { en: 'Refund {refund} of {amount} started by {actor}', de: 'Erstattung {refund} über {amount} begonnen von {actor}' },
  'kassa.order.refund.created.externally': {
    en: 'Refund {refund} of {amount} made outside Kassa, reported by {actor}', de: 'Erstattung {refund} über {amount} außerhalb von Kassa, gemeldet von {actor}',
  },
  'kassa.order.refund.transit': { en: 'Refund {refund} of {amount} is on its way', de: 'Erstattung {refund} über {amount} ist unterwegs' },
  'kassa.order.refund.done': { en: 'Refund {refund} of {amount} done, reported by {actor}', de: 'Erstattung {refund} über {amount} abgeschlossen, gemeldet von {actor}' },
  'kassa.order.refund.failed': { en: 'Refund {refund} of {amount} failed[: {message}]', de: 'Erstattung {refund} über {amount} fehlgeschlagen[: {message}]' },
  'kassa.order.refund.canceled': { en: 'Refund {refund} of {amount} canceled by {actor}', de: 'Erstattung {refund} über {amount} abgebrochen von {actor}' },
  'kassa.settings.changed': { en: 'Settings changed by {actor}', de: 'Einstellungen geändert von {actor}' },
  // Stored payment methods and payment plans (docs/payment-plans.md)
  'kassa.order.stored_method.saved': { en: 'Card[ {brand}][ ending {last4}] saved for later payments by {actor}', de: 'Karte[ {brand}][ mit Endziffern {last4}] für spätere Zahlungen gespeichert von {actor}' },
  'kassa.order.stored_method.removed': { en: 'Saved payment method removed by {actor}', de: 'Gespeicherte Zahlungsart entfernt von {actor}' },
  'kassa.plan.created': { en: 'Payment plan created by {actor}', de: 'Ratenplan angelegt von {actor}' },
  'kassa.plan.method_changed': { en: 'Payment method of the plan changed by {actor}', de: 'Zahlungsart des Ratenplans geändert von {actor}' },
  'kassa.plan.attention': { en: 'Payment plan needs attention: an instalment waits for the buyer', de: 'Ratenplan braucht Aufmerksamkeit: eine Rate wartet auf die Kundschaft' },
  'kassa.plan.resumed': { en: 'Payment plan running again', de: 'Ratenplan läuft wieder' },
  'kassa.plan.completed': { en: 'Payment plan completed: every instalment paid', de: 'Ratenplan abgeschlossen: alle Raten bezahlt' },
  'kassa.plan.canceled': { en: 'Payment plan canceled by {actor}', de: 'Ratenplan abgebrochen von {actor}' },
  'kassa.plan.instalment.paid': { en: 'Instalment[ {seq}][ ({amount})] paid', de: 'Rate[ {seq}][ ({amount})] bezahlt' },
  'kassa.plan.instalment.processing': { en: 'Instalment[ {seq}][ ({amount})] charged, the money is on its way', de: 'Rate[ {seq}][ ({amount})] belastet, das Geld ist unterwegs' },
  'kassa.plan.instalment.retrying': { en: 'Instalment[ {seq}][ ({amount})] declined[: {reason}], charged again later', de: 'Rate[ {seq}][ ({amount})] abgelehnt[: {reason}], wird später erneut belastet' },
  'kassa.plan.instalment.action_required': {
    en: 'Instalment[ {seq}][ ({amount})] needs the buyer[: {reason}]', de: 'Rate[ {seq}][ ({amount})] braucht die Kundschaft[: {reason}]',
  },
  'kassa.plan.instalment.rescheduled': { en: 'Instalment[ {seq}] scheduled again by {actor}', de: 'Rate[ {seq}] neu eingeplant von {actor}' },
  'kassa.plan.instalment.failed': { en: 'Instalment[ {seq}][ ({amount})] given up by {actor}', de: 'Rate[ {seq}][ ({amount})] aufgegeben von {actor}' },
  'kassa.plan.instalment.canceled': { en: 'Instalment[ {seq}] canceled by {actor}', de: 'Rate[ {seq}] storniert von {actor}' },
  'kassa.plan.instalment.charge_now': { en: 'Instalment[ {seq}] to be charged now, asked by {actor}', de: 'Rate[ {seq}] sofort belasten, veranlasst von {actor}' },
};

/** A payment or refund row as a sentence names it. */
export interface LogObjectRef {
  readonly localId: number;
  readonly amount: number;
  readonly currency: string;
  readonly provider: string;
}

/** A log entry, as much as a sentence needs of it. */
export interface LogEntryLike {
  readonly action: string;
  readonly objectType: string;
  readonly objectId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** What the sentence knows about the order around an entry, resolved once per page. */
export interface LogSentenceContext {
  readonly locale: LogLocale;
  readonly currency: string;
  /** The actor's label: an email, an API token's name, a provider's name, "Kassa". */
  readonly actor: string;
  readonly payments?: ReadonlyMap<string, LogObjectRef>;
  readonly refunds?: ReadonlyMap<string, LogObjectRef>;
  /** Position id → its number in the order. */
  readonly positions?: ReadonlyMap<string, number>;
  readonly providerName?: (identifier: string) => string;
  readonly formatMoney: (amount: number, currency: string) => string;
  readonly formatDate: (date: Date) => string;
}

/** Checks a set of sentences (core's, a plugin's): every code has a non-empty en and de. */
export function checkLogSentences(sentences: Readonly<Record<string, unknown>>, owner: string): string | null {
  for (const [code, s] of Object.entries(sentences)) {
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(code)) return `${owner}: log action code "${code}" must be dotted lower-case words`;
    const sentence = s as Partial<LogSentence> | null;
    for (const locale of logLocales) {
      if (typeof sentence?.[locale] !== 'string' || sentence[locale].trim() === '') return `${owner}: log action "${code}" needs a sentence in "${locale}"`;
    }
  }
  return null;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/**
 * The sentence of one log entry in the context's locale; an unknown code falls back to the code
 * itself (the test keeps that from happening for codes Kassa writes).
 */
export function describeLogEntry(entry: LogEntryLike, ctx: LogSentenceContext, sentences: Readonly<Record<string, LogSentence>> = coreLogSentences): string {
  const template = sentences[entry.action]?.[ctx.locale];
  if (!template) return entry.action;
  const d = entry.data ?? {};
  const payment = ctx.payments?.get(entry.objectType === 'payment' ? entry.objectId : String(d.paymentId ?? ''));
  const refund = entry.objectType === 'refund' ? ctx.refunds?.get(entry.objectId) : undefined;
  const row = refund ?? payment;
  const currency = text(d.currency) ?? row?.currency ?? ctx.currency;
  const money = (v: number | undefined) => (v === undefined ? undefined : ctx.formatMoney(v, currency));
  const pendingSum = num(d.pendingSum);
  const positionId = text(d.positionId);
  const values: Record<string, string | undefined> = {
    actor: ctx.actor,
    payment: payment ? `P-${payment.localId}` : num(d.localId) !== undefined && entry.objectType === 'payment' ? `P-${num(d.localId)}` : undefined,
    refund: refund ? `R-${refund.localId}` : undefined,
    amount: money(num(d.amount) ?? row?.amount),
    provider: (() => {
      const id = text(d.provider) ?? row?.provider;
      return id ? (ctx.providerName?.(id) ?? id) : undefined;
    })(),
    expires: text(d.expires) && !Number.isNaN(new Date(String(d.expires)).getTime()) ? ctx.formatDate(new Date(String(d.expires))) : undefined,
    fee: num(d.cancellationFee) ? money(num(d.cancellationFee)) : undefined,
    reason: text(d.reason) ?? text(d.message),
    message: text(d.message) ?? text(d.error),
    overpaid: pendingSum !== undefined && pendingSum < 0 ? money(-pendingSum) : undefined,
    previousTotal: money(num(d.previousTotal)),
    total: num(d.previousTotal) !== undefined ? money(num(d.total)) : undefined,
    position: num(d.positionNo) !== undefined ? `#${num(d.positionNo)}` : positionId && ctx.positions?.has(positionId) ? `#${ctx.positions.get(positionId)}` : undefined,
    price: money(num(d.price)),
    fromPrice: money(num(d.from)),
    toPrice: money(num(d.to) ?? num(d.price)),
  };
  // Any other name is the entry's own detail of that name (a plugin's {status}), when it is text or a number.
  const value = (k: string): string | undefined => (k in values ? values[k] : text(d[k]) ?? (num(d[k]) !== undefined ? String(d[k]) : undefined));
  const fill = (s: string) => s.replace(/\{(\w+)\}/g, (_m, k: string) => value(k) ?? '');
  // Optional parts first: dropped when a detail inside is missing.
  const withOptional = template.replace(/\[([^\]]*)\]/g, (_m, part: string) =>
    ([...part.matchAll(/\{(\w+)\}/g)].every((m) => value(m[1]!) !== undefined) ? part : ''));
  return fill(withOptional);
}
