import {
  minorUnitsToDecimalString, type ExportDataset, type ExportRowTypes, type OrderPayment, type ProviderRegistry,
} from '@kassa/core/host';

/** One column of an export: its heading and how a row becomes the cell's text. */
interface Column<R> {
  header: string;
  value(row: R): string;
}

const money = (amount: number, currency: string): string => minorUnitsToDecimalString({ amount, currency });
const date = (d: Date | null): string => (d ? new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

/**
 * Text a person or another system typed (e-mails, comments, references) is never read as a
 * formula by a spreadsheet: a leading =, +, -, @, tab or carriage return gets a quote in front
 * (OWASP's CSV injection advice). Amounts are ours and never pass through here.
 */
export function safeText(value: string | null | undefined): string {
  const s = value ?? '';
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** The provider's own reference of a payment (its matchingId), or empty when it has none or is not installed. */
function providerReference(providers: ProviderRegistry, provider: string, info: Record<string, unknown>): string {
  if (!providers.has(provider)) return '';
  try {
    return providers.get(provider).matchingId({ info, provider } as unknown as OrderPayment) ?? '';
  } catch {
    return '';
  }
}

/** The columns accountants ask for, per dataset. Money is decimal text in the currency's exponent. */
export function exportColumns(providers: ProviderRegistry): { [D in ExportDataset]: Column<ExportRowTypes[D]>[] } {
  return {
    orders: [
      { header: 'Order code', value: (r) => r.code },
      { header: 'Event', value: (r) => safeText(r.eventSlug) },
      { header: 'Order date', value: (r) => date(r.createdAt) },
      { header: 'Status', value: (r) => r.status },
      { header: 'Email', value: (r) => safeText(r.email) },
      { header: 'Currency', value: (r) => r.currency },
      { header: 'Total', value: (r) => money(r.total, r.currency) },
      { header: 'Fees', value: (r) => money(r.fees, r.currency) },
      { header: 'Paid', value: (r) => money(r.paid, r.currency) },
      { header: 'Refunded', value: (r) => money(r.refunded, r.currency) },
      { header: 'Open', value: (r) => money(r.pendingSum, r.currency) },
      { header: 'Payment methods', value: (r) => r.providers },
      { header: 'Payment date', value: (r) => date(r.lastPaymentDate) },
      { header: 'Expires', value: (r) => date(r.expires) },
      { header: 'Canceled', value: (r) => date(r.cancellationDate) },
      { header: 'Test mode', value: (r) => (r.testmode ? 'yes' : 'no') },
      { header: 'Shredded', value: (r) => (r.shredded ? 'yes' : 'no') },
    ],
    payments: [
      { header: 'Order code', value: (r) => r.orderCode },
      { header: 'Event', value: (r) => safeText(r.eventSlug) },
      { header: 'Payment', value: (r) => `${r.orderCode}-P-${r.localId}` },
      { header: 'Created', value: (r) => date(r.createdAt) },
      { header: 'Payment date', value: (r) => date(r.paymentDate) },
      { header: 'Payment method', value: (r) => r.provider },
      { header: 'State', value: (r) => r.state },
      { header: 'Currency', value: (r) => r.currency },
      { header: 'Amount', value: (r) => money(r.amount, r.currency) },
      { header: 'Refunded', value: (r) => money(r.refunded, r.currency) },
      { header: 'Provider reference', value: (r) => safeText(providerReference(providers, r.provider, r.info)) },
      { header: 'Email', value: (r) => safeText(r.orderEmail) },
    ],
    refunds: [
      { header: 'Order code', value: (r) => r.orderCode },
      { header: 'Event', value: (r) => safeText(r.eventSlug) },
      { header: 'Refund', value: (r) => `${r.orderCode}-R-${r.localId}` },
      { header: 'Payment', value: (r) => (r.paymentLocalId === null ? '' : `${r.orderCode}-P-${r.paymentLocalId}`) },
      { header: 'Created', value: (r) => date(r.createdAt) },
      { header: 'Executed', value: (r) => date(r.executionDate) },
      { header: 'Payment method', value: (r) => r.provider },
      { header: 'Source', value: (r) => r.source },
      { header: 'State', value: (r) => r.state },
      { header: 'Currency', value: (r) => r.currency },
      { header: 'Amount', value: (r) => money(r.amount, r.currency) },
      { header: 'Provider reference', value: (r) => safeText(r.externalId) },
      { header: 'Comment', value: (r) => safeText(r.comment) },
      { header: 'Email', value: (r) => safeText(r.orderEmail) },
    ],
  };
}
