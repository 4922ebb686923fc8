import { KassaError } from '@kassa/core';

/*
 * A bank account for a Custom account's payouts, as the organizer types it: a Stripe bank token
 * (`btok_…`, made by Stripe.js or one of Stripe's test tokens) or an IBAN. An IBAN is checked
 * (ISO 13616 mod-97) before it goes to Stripe, so a typo gets a 400 naming the field instead of a
 * refusal from Stripe; the check is a few lines, so no library is pulled in for it.
 */

const bad = (field: string, detail: string): KassaError => new KassaError('VALIDATION_FAILED', { field, detail: `${field}: ${detail}` });

export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const digits = `${iban.slice(4)}${iban.slice(0, 4)}`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return rest === 1;
}

/** Stripe's `external_account` parameter: the token as is, or a bank_account hash for an IBAN. */
export function parseBankInput(field: string, value: string, currency: string, holder: string): string | Record<string, string> {
  const v = value.trim();
  if (/^btok_[A-Za-z0-9_]{1,100}$/.test(v)) return v;
  const iban = v.replace(/\s+/g, '').toUpperCase();
  if (!ibanValid(iban)) throw bad(field, 'must be an IBAN (e.g. DE89 3704 0044 0532 0130 00) or a Stripe bank token (btok_…)');
  const cur = currency.trim().toLowerCase();
  if (!/^[a-z]{3}$/.test(cur)) throw bad('currency', 'must be a three-letter currency code');
  const name = holder.trim();
  if (name.length > 200) throw bad('account_holder_name', 'must be at most 200 characters');
  return { object: 'bank_account', country: iban.slice(0, 2), currency: cur, account_number: iban, ...(name ? { account_holder_name: name } : {}) };
}
