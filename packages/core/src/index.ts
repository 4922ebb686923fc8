// The public surface of @kassa/core. Server, jobs and plugins import from here only.
import 'reflect-metadata';

export * from './errors';
export * from './money/money';
export * from './money/currencies';
export { allocate } from './money/allocate';
export { formatMoney, minorUnitsToDecimalString, type FormatMoneyOptions } from './money/format';
export { parseMoney, type ParseMoneyOptions } from './money/parse';
export * from './state-machine';
export { type Clock, systemClock } from './clock';

export { orderMachine, orderStates, orderEvents, type OrderStatus, type OrderEvent } from './order/order.machine';
export { paymentMachine, paymentStates, paymentEvents, type PaymentState, type PaymentEvent } from './payment/payment.machine';
export { refundMachine, refundStates, refundEvents, refundSources, type RefundState, type RefundEvent, type RefundSource } from './refund/refund.machine';

export { Organizer } from './organizer/organizer.entity';
export { User } from './organizer/user.entity';
export { Team } from './organizer/team.entity';
export { ApiToken } from './organizer/api-token.entity';
export { Event } from './event/event.entity';
export { Product } from './event/product.entity';
export { Quota } from './event/quota.entity';
export { Order } from './order/order.entity';
export { OrderPosition } from './order/order-position.entity';
export { OrderFee, orderFeeTypes, type OrderFeeType } from './order/order-fee.entity';
export { OrderPayment } from './payment/order-payment.entity';
export { OrderRefund } from './refund/order-refund.entity';
export { LogEntry, actorTypes, type ActorType } from './audit/log-entry.entity';
export { logAction, systemActor, type Actor, type LogActionInput } from './audit/log-action';
export { OutboxEvent } from './outbox/outbox-event.entity';
export { emitEvent, outboxTopics, type OutboxTopic, type EmitEventInput } from './outbox/emit-event';
export { Setting, settingScopes, type SettingScope } from './settings/setting.entity';

export { coreEntities } from './db/entities';
export { coreMigrations } from './db/migrations';
export { createDataSource, type DataSourceOptions, type EntityClass } from './db/data-source';
export { runMigrations } from './db/migrate';
export { withTransaction } from './db/with-transaction';
export { minorUnits } from './db/column-types';

// Plugins import only @kassa/core: the persistence API they need (entities, migrations, queries)
// is re-exported from here so that there is exactly one TypeORM instance.
export {
  DataSource, EntityManager, Repository, In, IsNull, Not, LessThan, MoreThan,
  Entity, Column, PrimaryGeneratedColumn, PrimaryColumn, CreateDateColumn, UpdateDateColumn, Index, Unique,
  ManyToOne, OneToMany, JoinColumn,
  type MigrationInterface, type QueryRunner, type ObjectLiteral,
} from 'typeorm';

export { BasePaymentProvider, type JsonSchema, type PrepareResult } from './provider/base-payment-provider';
export type {
  PaymentOutcome, RefundOutcome, ViewModel, ProviderContext, AvailabilityQuery, PaymentCallInput, RefundCallInput,
} from './provider/provider-types';
