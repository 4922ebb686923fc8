import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as port from '../../src';

/*
 * The plugin port (`@kassa/core`) is pinned: a name added here is a decision about what every
 * plugin may depend on, not a side effect. Hosts (server, jobs, app, tests) use `@kassa/core/host`.
 */

const values = [
  'BasePaymentProvider', 'KassaError', 'add', 'assertMinorUnits', 'assertSameCurrency', 'calculateFee', 'compare', 'createAjv', 'currencyExponent', 'defineErrors', 'defineJob',
  'defineMigration', 'definePlugin', 'defineRoute', 'describeAjvErrors', 'eventSettings', 'formatMoney', 'globalSettings', 'isCurrencyCode', 'isKassaError',
  'isZero', 'minorUnitsToDecimalString', 'money',
  'orderMachine', 'organizerSettings', 'paymentMachine', 'pluginError', 'refundMachine', 'subtract', 'sum', 'systemClock',
];

const types = [
  'Actor', 'AnyErrorCode', 'AvailabilityQuery', 'Clock', 'ConfirmKind', 'CurrencyCode', 'DisplaySettings', 'EmbeddedDefault', 'EmbeddedDefaultHost',
  'ErrorCatalogue', 'ErrorCode', 'ErrorDefinition', 'ErrorParams', 'Event', 'EventRecord', 'FeeRule', 'JsonSchema', 'LogSentence', 'Money', 'Order', 'OrderPayment', 'OrderRecord',
  'OrderRefund', 'OrderStatus', 'OrganizerRecord', 'PathParams', 'PaymentCallInput', 'PaymentChange', 'PaymentOutcome', 'PaymentRecord', 'PaymentState',
  'PaymentWithOrder', 'PaymentsPort', 'Plugin', 'PluginDb', 'PluginDefinition', 'PluginHttpRequest', 'PluginHttpResponse', 'PluginJob', 'PluginJobProcessor',
  'PluginJobRuntime', 'PluginLogger', 'PluginMigration', 'PluginQuery', 'PluginRoute', 'PluginRouteHandler', 'PluginRuntime', 'PluginSettings',
  'PluginSetupContext', 'PluginStatement', 'PrepareResult', 'ProviderContext', 'ProviderEnvironment', 'ProviderEvent', 'ProviderFactory', 'RefundCallInput',
  'RefundChange', 'RefundOutcome', 'RefundRecord', 'RefundSource', 'RefundState', 'SecretEnvelope', 'SettingScope', 'SettingsTarget', 'ViewModel',
  'OpenPaymentRecord',
  'TeamPermission',
  // The stored-method capability (docs/payment-plans.md).
  'ActionReason', 'OffSessionChargeInput', 'OffSessionOutcome', 'SavedMethodDetails', 'StoredMethodRef', 'StoredMethodsPort', 'StoredMethodRecord', 'PlanRecord',
  // Plugin notices on the organizer's dashboard (PluginDefinition.dashboardNotices).
  'DashboardNotice',
];

/** Every name the index declares, values and types, read from its export lists. */
function declaredNames(): string[] {
  const source = readFileSync(resolve(__dirname, '../../src/index.ts'), 'utf8');
  const names = [...source.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => (m[1] ?? '').split(','))
    .map((part) => part.trim().replace(/^type /, '').split(' as ').pop()!.trim()).filter(Boolean);
  expect(source).not.toMatch(/export \*/);
  return [...new Set(names)].sort();
}

describe('the plugin port (@kassa/core)', () => {
  it('exports exactly the pinned values', () => {
    expect(Object.keys(port).sort()).toEqual([...values].sort());
  });

  it('declares exactly the pinned names (values and types)', () => {
    expect(declaredNames()).toEqual([...values, ...types].sort());
  });

  it('pins the payments port\'s email methods and the operator flag of control requests (a rename fails to compile here)', () => {
    const methods: (keyof import('../../src').PaymentsPort)[] = ['emailBuyer', 'emailOrganizer', 'openPayments'];
    const request: (keyof import('../../src').PluginHttpRequest)[] = ['isAdmin', 'isOperator', 'clientIp'];
    expect([...methods, ...request]).toHaveLength(6);
  });

  it('exports no entity, TypeORM, SQL helper or raw audit/outbox writer', () => {
    for (const name of ['DataSource', 'Repository', 'Entity', 'Column', 'logAction', 'emitEvent', 'prepared', 'queryPrepared', 'orderSumsSql', 'withTransaction', 'createKassaCore', 'errorCodes']) {
      expect(Object.keys(port)).not.toContain(name);
    }
  });
});
