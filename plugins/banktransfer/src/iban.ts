import { electronicFormatIBAN, extractIBAN, friendlyFormatIBAN, isSEPACountry, validateBIC, validateIBAN, ValidationErrorsIBAN } from 'ibantools';
import { BankTransferError } from './errors';

const ibanReasons: Record<ValidationErrorsIBAN, string> = {
  [ValidationErrorsIBAN.NoIBANProvided]: 'empty',
  [ValidationErrorsIBAN.NoIBANCountry]: 'unknown country',
  [ValidationErrorsIBAN.WrongBBANLength]: 'wrong length for its country',
  [ValidationErrorsIBAN.WrongBBANFormat]: 'wrong account number format for its country',
  [ValidationErrorsIBAN.ChecksumNotNumber]: 'check digits are not a number',
  [ValidationErrorsIBAN.WrongIBANChecksum]: 'check digits do not match',
  [ValidationErrorsIBAN.WrongAccountBankBranchChecksum]: 'account number checksum does not match',
  [ValidationErrorsIBAN.QRIBANNotAllowed]: 'QR-IBANs cannot receive ordinary transfers',
};

/** "DE89 3704 0044 0532 0130 00" → "DE89370400440532013000" (spaces and dashes removed, upper case). */
export function normalizeIban(input: string): string {
  return electronicFormatIBAN(input.trim()) ?? '';
}

/** Printed in groups of four, as on bank cards and in pretix's transfer details. */
export function formatIban(iban: string): string {
  return friendlyFormatIBAN(normalizeIban(iban)) ?? iban;
}

/** Why an IBAN is not valid (ISO 7064 mod 97 check digits, length and format per country), or null when it is. */
export function ibanProblem(input: string): string | null {
  const result = validateIBAN(normalizeIban(input), { allowQRIBAN: false });
  if (result.valid) return null;
  return result.errorCodes.map((c) => ibanReasons[c]).join(', ') || 'invalid';
}

/** Normalises and checks an IBAN, refusing it with the field named. */
export function assertIban(input: string, field: string): string {
  const problem = ibanProblem(input);
  if (problem) throw new BankTransferError('BANKTRANSFER_IBAN_INVALID', { field, value: input, reason: problem });
  return normalizeIban(input);
}

/** "deut de ff" → "DEUTDEFF". */
export function normalizeBic(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

export function isValidBic(input: string): boolean {
  return validateBIC(normalizeBic(input)).valid;
}

export function assertBic(input: string, field: string): string {
  if (!isValidBic(input)) throw new BankTransferError('BANKTRANSFER_BIC_INVALID', { field, value: input });
  return normalizeBic(input);
}

/** The IBAN's country (ISO 3166 alpha-2), e.g. "DE". */
export function ibanCountry(iban: string): string | undefined {
  return extractIBAN(normalizeIban(iban)).countryCode;
}

/** Whether the IBAN's country takes part in SEPA (EPC QR codes and pain.001 files are for SEPA accounts). */
export function isSepaIban(iban: string): boolean {
  const country = ibanCountry(iban);
  return country !== undefined && isSEPACountry(country);
}
