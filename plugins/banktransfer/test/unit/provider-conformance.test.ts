import type { BasePaymentProvider } from '@kassa/core';
import { runProviderConformance } from '@kassa/testing';
import { BankTransferProvider } from '../../src';

runProviderConformance(() => new BankTransferProvider() as unknown as BasePaymentProvider, {
  settings: { accountHolder: 'Winterfest e.V.', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', freeText: { en: 'Thank you!' }, showQrCode: true, paymentTermDays: 14, reminderDaysBefore: [3] },
  currency: 'EUR', amount: 2350,
  happyPath: { input: {}, expect: ['pending'] },
  validSettings: { accountHolder: 'Winterfest e.V.', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX' },
  invalidSettings: [{ iban: 'not an iban' }, { accountHolder: '' }, { paymentTermDays: 0 }, { colour: 'red' }],
  shred: {
    info: { reference: 'DEMO-Q7ZRX', transactionId: 't1', payerName: 'Jana Mueller', payerIban: 'DE02120300000000202051', flags: [] },
    personalKeys: ['payerName', 'payerIban'],
  },
});
