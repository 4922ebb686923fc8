import {
  BasePaymentProvider, formatMoney, paymentMachine, type AvailabilityQuery, type Money, type OrderPayment, type PaymentCallInput,
  type PaymentOutcome, type ProviderContext, type ProviderEnvironment, type RefundCallInput, type RefundOutcome, type ViewModel,
} from '@kassa/core';
import { epcQrPayload, epcQrProblem, epcQrSvgSync } from './epc-qr';
import { formatIban, ibanProblem } from './iban';
import { orderReference } from './reference';
import { bankTransferSettingsSchema, type BankTransferSettings } from './settings-schema';
import { localized } from './transfer-details';
import { transferMailText, type TransferMailDetails } from './transfer-mail-text';

/** Where the plugin's routes live (the server mounts plugin routes under /plugins/<name>). */
export const BANKTRANSFER_ROUTE_PREFIX = '/plugins/banktransfer';

/** What the plugin keeps on a payment (order_payment.info). */
export interface BankTransferPaymentInfo {
  /** The reference the buyer was asked to write ("DEMO-ABC12"). */
  reference?: string;
  /** Set when a statement transaction booked this payment (import or by hand). */
  transactionId?: string;
  bookingDate?: string;
  payerName?: string | null;
  payerIban?: string | null;
  /** Why the organizer should look (partial, overpaid, order-canceled, …). */
  flags?: string[];
  assignedBy?: 'import' | 'organizer';
  _shredded?: boolean;
}

/**
 * Bank transfer, as pretix's: placing the order creates the payment pending (no money moves);
 * the order page shows the account, the exact amount and the reference (and an EPC QR code);
 * the organizer's statement import confirms it (import/import-job.ts). Refunds are manual: the
 * organizer sends the money back (a SEPA file) and marks them done.
 */
export class BankTransferProvider extends BasePaymentProvider<BankTransferSettings, BankTransferPaymentInfo> {
  readonly identifier = 'banktransfer';
  readonly verboseName = 'Bank transfer';
  override readonly priority = 80;
  override readonly executePaymentNeedsUser = false;
  /** A buyer who has not transferred yet may switch to another method. */
  override readonly abortPendingAllowed = true;
  override readonly settingsSchema = bankTransferSettingsSchema;

  constructor(_env?: ProviderEnvironment) {
    super();
  }

  /** Only with an account to transfer to (the checksum too: a wrong IBAN would lose buyers' money). */
  override isAllowed(ctx: ProviderContext<BankTransferSettings>, _query: AvailabilityQuery): boolean {
    const s = ctx.settings as Partial<BankTransferSettings>;
    return Boolean(s.accountHolder && s.iban && !ibanProblem(s.iban));
  }

  override paymentFormRender(ctx: ProviderContext<BankTransferSettings>, total: Money): ViewModel | null {
    return {
      partial: 'banktransfer/checkout',
      data: { amount: formatMoney(total, ctx.event?.locale ?? 'en'), termDays: (ctx.settings as Partial<BankTransferSettings>).paymentTermDays ?? 14 },
    };
  }

  /** Placing the order moves no money: the payment waits, pending, for the transfer. */
  async executePayment(ctx: ProviderContext<BankTransferSettings>, call: PaymentCallInput): Promise<PaymentOutcome> {
    return { kind: 'pending', info: { reference: orderReference(ctx.event.slug, call.order.code) } };
  }

  /** On the order page while the transfer is awaited: account, exact amount, reference, QR code. */
  override paymentPendingRender(ctx: ProviderContext<BankTransferSettings>, call: PaymentCallInput): ViewModel | null {
    return { partial: 'banktransfer/pending', data: { ...transferDetailsView(ctx, call) } };
  }

  /**
   * The "order placed" email's transfer details, in the buyer's language: the same account,
   * exact amount and reference as the order page (plain text; core escapes it for HTML).
   */
  override paymentPendingMailRender(ctx: ProviderContext<BankTransferSettings>, call: PaymentCallInput): string | null {
    const locale = call.order.locale || ctx.event?.locale || 'en';
    const d = transferDetailsView(ctx, call, locale);
    if (!d.accountHolder || !d.iban) return null;
    return transferMailText(d, locale);
  }

  /** Control panel: the reference and, once booked, the transaction and its flags. */
  override paymentControlRender(ctx: ProviderContext<BankTransferSettings>, call: PaymentCallInput): ViewModel | null {
    const info = call.payment.info as BankTransferPaymentInfo;
    return {
      partial: 'banktransfer/control',
      data: {
        reference: orderReference(ctx.event.slug, call.order.code),
        transactionId: info.transactionId ?? null,
        bookingDate: info.bookingDate ?? null,
        payerName: info.payerName ?? null,
        payerIban: info.payerIban ? formatIban(info.payerIban) : null,
        flags: info.flags ?? [],
        open: paymentMachine.is('open', call.payment.state),
        importUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/imports`,
        refundsUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/refunds`,
        shredded: info._shredded === true,
      },
    };
  }

  override paymentPresaleRender(payment: OrderPayment): string {
    const ref = (payment.info as BankTransferPaymentInfo).reference;
    return ref ? `Bank transfer (${ref})` : this.publicName;
  }

  /** A manual refund: possible when the statement told us where the money came from. */
  override paymentRefundSupported(payment: OrderPayment): boolean {
    return typeof (payment.info as BankTransferPaymentInfo).payerIban === 'string';
  }

  override paymentPartialRefundSupported(payment: OrderPayment): boolean {
    return this.paymentRefundSupported(payment);
  }

  /**
   * Nothing is sent by itself: the refund waits in transit until the organizer exports it as a
   * SEPA credit transfer (pain.001), has the bank execute it and marks it done.
   */
  override async executeRefund(_ctx: ProviderContext<BankTransferSettings>, call: RefundCallInput): Promise<RefundOutcome> {
    const info = (call.payment?.info ?? {}) as BankTransferPaymentInfo;
    return { kind: 'transit', info: { manual: true, payerName: info.payerName ?? null, payerIban: info.payerIban ?? null, sepaExported: false } };
  }

  /** GDPR: keep the reference, the booking date and the flags; drop who paid and from where. */
  override shredPaymentInfo(info: BankTransferPaymentInfo | Record<string, unknown>): Record<string, unknown> {
    const { payerName: _n, payerIban: _i, ...kept } = info as BankTransferPaymentInfo;
    return { ...kept, _shredded: true };
  }

  override apiPaymentDetails(payment: OrderPayment): Record<string, unknown> {
    const info = payment.info as BankTransferPaymentInfo;
    return { reference: info.reference ?? null, transactionId: info.transactionId ?? null, bookingDate: info.bookingDate ?? null, flags: info.flags ?? [] };
  }

  override matchingId(payment: OrderPayment): string | null {
    return (payment.info as BankTransferPaymentInfo).transactionId ?? null;
  }
}

/** The transfer details of one open payment: what the buyer must transfer, exactly. */
export function transferDetailsView(
  ctx: ProviderContext<BankTransferSettings>, call: PaymentCallInput, locale = ctx.event?.locale ?? 'en',
): TransferMailDetails & { readonly amount: number; readonly currency: string; readonly qrSvg: string | null } {
  const s = ctx.settings as Partial<BankTransferSettings>;
  const amount: Money = { amount: call.payment.amount, currency: call.payment.currency.trim() };
  // From the order as it is now (matching reads the same code and slug), not from what was stored at placement.
  const reference = orderReference(ctx.event.slug, call.order.code);
  let qrSvg: string | null = null;
  if (s.showQrCode !== false && s.iban && s.accountHolder && !epcQrProblem({ iban: s.iban, amount })) {
    qrSvg = epcQrSvgSync(epcQrPayload({ beneficiaryName: s.accountHolder, iban: s.iban, ...(s.bic ? { bic: s.bic } : {}), amount, remittance: reference }));
  }
  return {
    accountHolder: s.accountHolder ?? '',
    iban: s.iban ? formatIban(s.iban) : '',
    bic: s.bic || null,
    bankName: s.bankName || null,
    reference,
    amount: amount.amount,
    currency: amount.currency,
    amountFormatted: formatMoney(amount, locale),
    freeText: localized(s.freeText, locale),
    qrSvg,
  };
}
