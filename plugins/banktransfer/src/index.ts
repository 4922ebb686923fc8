// @kassa/plugin-banktransfer: the parts of the bank transfer provider that need nothing of core's
// services yet (issue 16). The provider class, routes, jobs and tables join once the plugin port
// (issue 12) has landed; then this file default-exports the plugin's definePlugin({...}).
export * from './errors';
export { normalizeIban, formatIban, ibanProblem, assertIban, normalizeBic, isValidBic, assertBic, ibanCountry, isSepaIban } from './iban';
export { bankTransferSettingsSchema, settingsProblems, parseBankTransferSettings, type BankTransferSettings, type LocalizedText, type SettingsProblem } from './settings-schema';
export { orderReference } from './reference';
export { epcQrPayload, epcQrProblem, epcQrSvg, type EpcTransfer } from './epc-qr';
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
  matchTransactions, orderStanding,
  type CandidateOrder, type OrderStanding, type MatchFlag, type Allocation, type UnmatchedReason, type MatchResult,
} from './matching/match-transactions';
export { buildPain001, messageIdFor, sepaText, PAIN001_NAMESPACE, type SepaRefund, type SepaExportInput, type SepaExport } from './sepa/pain001';
export { planStatementImport, type ImportPlanInput, type ImportPlan, type PlannedTransaction } from './import/plan-import';
