import { createAjv, describeAjvErrors, type JsonSchema } from '@kassa/core';
import { BankTransferError } from './errors';
import { ibanCountry, ibanProblem, isValidBic, normalizeBic, normalizeIban } from './iban';

/** Free text shown with the transfer details, per language ("en", "de-AT"). */
export type LocalizedText = Record<string, string>;

/** The provider's own settings (namespace "payment.banktransfer"), resolved per event by core. */
export interface BankTransferSettings {
  accountHolder: string;
  /** Stored in electronic form (no spaces); shown in groups of four. */
  iban: string;
  /** Optional inside SEPA (EPC069-12 version 002), needed for transfers from outside it. */
  bic?: string;
  bankName?: string;
  /** Shown under the details on the order page and in emails, per language. */
  freeText: LocalizedText;
  /** Show an EPC (GiroCode) QR code for banking apps; only for EUR and SEPA accounts. */
  showQrCode: boolean;
  /** Days a buyer has to transfer; the order's payment deadline. */
  paymentTermDays: number;
  /** Reminders before the term ends, as days before the deadline (e.g. [3] = three days before). */
  reminderDaysBefore: number[];
}

const languageTag = '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$';

/**
 * JSON Schema of the bank transfer settings. The IBAN's check digits and the BIC's shape are checked
 * in `settingsProblems` (a checksum is beyond JSON Schema); the pattern here only keeps out what is
 * not an IBAN at all.
 */
export const bankTransferSettingsSchema: JsonSchema = {
  type: 'object',
  properties: {
    accountHolder: { type: 'string', minLength: 1, maxLength: 70, title: 'Account holder' },
    iban: { type: 'string', pattern: '^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{8,40}$', title: 'IBAN' },
    bic: { type: 'string', pattern: '^[A-Za-z0-9 ]{8,14}$', title: 'BIC' },
    bankName: { type: 'string', maxLength: 140, title: 'Bank name' },
    freeText: {
      type: 'object',
      patternProperties: { [languageTag]: { type: 'string', maxLength: 2000 } },
      additionalProperties: false,
      default: {},
      title: 'Text shown with the transfer details (per language)',
    },
    showQrCode: { type: 'boolean', default: true, title: 'Show a QR code for banking apps (EPC/GiroCode)' },
    paymentTermDays: { type: 'integer', minimum: 1, maximum: 365, default: 14, title: 'Payment term (days)' },
    reminderDaysBefore: {
      type: 'array', items: { type: 'integer', minimum: 0, maximum: 364 }, uniqueItems: true, maxItems: 5, default: [3],
      title: 'Reminders (days before the payment deadline)',
    },
  },
  required: ['accountHolder', 'iban'],
  additionalProperties: false,
};

/** One problem with the settings, naming the field (a dotted path such as "freeText.de"). */
export interface SettingsProblem {
  readonly field: string;
  readonly message: string;
}

/** Checks the schema cannot express: the IBAN checksum, the BIC, the BIC's country against the IBAN's, reminders within the term. */
export function settingsProblems(s: Partial<BankTransferSettings>): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  if (s.iban !== undefined) {
    const problem = ibanProblem(s.iban);
    if (problem) problems.push({ field: 'iban', message: `is not a valid IBAN (${problem})` });
  }
  if (s.bic !== undefined && s.bic !== '') {
    if (!isValidBic(s.bic)) problems.push({ field: 'bic', message: 'is not a valid BIC' });
    else if (s.iban !== undefined && !ibanProblem(s.iban) && normalizeBic(s.bic).slice(4, 6) !== ibanCountry(s.iban)) {
      problems.push({ field: 'bic', message: `belongs to a bank in ${normalizeBic(s.bic).slice(4, 6)}, but the IBAN is from ${ibanCountry(s.iban)}` });
    }
  }
  if (s.paymentTermDays !== undefined) {
    for (const days of s.reminderDaysBefore ?? []) {
      if (days >= s.paymentTermDays) problems.push({ field: 'reminderDaysBefore', message: `${days} days before the deadline is not within the ${s.paymentTermDays}-day payment term` });
    }
  }
  return problems;
}

let validate: ReturnType<ReturnType<typeof createAjv>['compile']> | undefined;

/**
 * Validates settings as an organizer saves them: the schema (defaults filled in), then the checks
 * above. Returns the settings in stored form (IBAN and BIC normalised); refuses with every problem
 * named by field.
 */
export function parseBankTransferSettings(input: unknown): BankTransferSettings {
  validate ??= createAjv({ useDefaults: true }).compile(bankTransferSettingsSchema);
  const data = structuredClone(input);
  if (!validate(data)) {
    throw new BankTransferError('BANKTRANSFER_SETTINGS_INVALID', { detail: describeAjvErrors(validate.errors) });
  }
  const settings = data as BankTransferSettings;
  const problems = settingsProblems(settings);
  if (problems.length > 0) {
    throw new BankTransferError('BANKTRANSFER_SETTINGS_INVALID', { detail: problems.map((p) => `${p.field} ${p.message}`).join('; '), field: problems[0]!.field });
  }
  return {
    ...settings,
    iban: normalizeIban(settings.iban),
    ...(settings.bic ? { bic: normalizeBic(settings.bic) } : {}),
  };
}
