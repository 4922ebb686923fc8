// @kassa/plugin-banktransfer: bank transfer on the plugin port (issue 16). The default export is the plugin.
import { createBankTransferPlugin } from './banktransfer-plugin';

export { createBankTransferPlugin, bankTransferViewsDir } from './banktransfer-plugin';
export { BankTransferProvider, BANKTRANSFER_ROUTE_PREFIX, transferDetailsView, type BankTransferPaymentInfo } from './banktransfer-provider';
export { BankTransferInit1766500000000 } from './migrations/1766500000000-banktransfer-init';
export { BankTransferKeyIndex1767400000000 } from './migrations/1767400000000-banktransfer-key-index';
export { importJob, runImport, createImport, bookTransaction, candidateOrders, organizerAccount, IMPORT_JOB, type ImportCandidate } from './import/import-job';
export type { ImportRow, TransactionRow, StoredAllocation } from './import/import-store';
export {
  handleAssign, handleDiscard, handleImportStatus, handleImportsPage, handleSaveMapping, handleUnmatched, handleUpload,
} from './routes/control-routes';
export { handleSepaExport, handleRefundDone, handleRefundCancel, handleRefundsPage, sepaRefundRef } from './routes/refund-routes';
export * from './errors';
export { normalizeIban, formatIban, ibanProblem, assertIban, normalizeBic, isValidBic, assertBic, ibanCountry, isSepaIban } from './iban';
export { bankTransferSettingsSchema, settingsProblems, parseBankTransferSettings, type BankTransferSettings, type LocalizedText, type SettingsProblem } from './settings-schema';
export { orderReference } from './reference';
export { epcQrPayload, epcQrProblem, epcQrSvg, epcQrSvgSync, type EpcTransfer } from './epc-qr';
export { buildTransferDetails, localized, type TransferDetails, type TransferDetailsInput } from './transfer-details';
export type { StatementFormat, StatementTransaction, ParsedStatement } from './statement/transaction';
export { decimalToMinorUnits } from './statement/amount';
export { parseCamt053 } from './statement/camt053';
export { parseMt940 } from './statement/mt940';
export { parseCsvStatement } from './statement/csv';
export { csvMappingSchema, csvDateFormats, parseCsvMapping, type CsvMapping, type CsvDateFormat } from './statement/csv-mapping';
export { parseStatement, detectStatementFormat, decodeStatementBytes } from './statement/parse-statement';
export { transactionKeys } from './statement/idempotency';
export { findOrderCodes, type CodedOrder } from './matching/find-order-codes';
export {
  matchTransactions, orderStanding, allocate,
  type CandidateOrder, type OrderStanding, type MatchFlag, type Allocation, type UnmatchedReason, type MatchResult,
} from './matching/match-transactions';
export { buildPain001, messageIdFor, sepaText, PAIN001_NAMESPACE, type SepaRefund, type SepaExportInput, type SepaExport } from './sepa/pain001';
export { planStatementImport, type ImportPlanInput, type ImportPlan, type PlannedTransaction } from './import/plan-import';
export { sendReminders, reminderEmail, reminderJob, REMINDER_JOB, type ReminderRun } from './reminders/reminder-job';
export { dueReminderStep, transferDeadline, type ReminderInput } from './reminders/reminder-schedule';
export { transferMailText, mailLanguage, type TransferMailDetails } from './transfer-mail-text';
export { pain001SchemaErrors, PAIN001_SCHEMA_FILE } from './sepa/pain001-schema';

export default createBankTransferPlugin();
