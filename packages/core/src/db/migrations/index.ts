import type { MigrationInterface } from 'typeorm';
import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { JobsAndEmails1763900000000 } from './1763900000000-jobs-and-emails';
import { QuotaUsage1764000000000 } from './1764000000000-quota-usage';
import { OrderIdempotencyKey1764100000000 } from './1764100000000-order-idempotency-key';
import { QuotaTriggerPlans1764100000001 } from './1764100000001-quota-trigger-plans';
import { UserOperator1765300000000 } from './1765300000000-user-operator';
import { EventPaymentTermLast1765400000000 } from './1765400000000-event-payment-term-last';
import { MoneyLimits1765500000000 } from './1765500000000-money-limits';
import { ActionKeys1765500000001 } from './1765500000001-action-keys';
import { OrderCountry1765600000000 } from './1765600000000-order-country';
import { QuotaTriggerFromSets1766000000000 } from './1766000000000-quota-trigger-from-sets';
import { PaymentPlans1767300000000 } from './1767300000000-payment-plans';
import { CartReservation1767500000000 } from './1767500000000-cart-reservation';
import { QuotaHoldCounter1767500000001 } from './1767500000001-quota-hold-counter';
import { CartReserveBatch1767500000002 } from './1767500000002-cart-reserve-batch';
import { TeamsAndInvites1767600000000 } from './1767600000000-teams-and-invites';
import { OrganizerWebhooks1767700000000 } from './1767700000000-organizer-webhooks';
import { ExportKeysetIndexes1767800000000 } from './1767800000000-export-keyset-indexes';
import { PlanNoDeposit1768400000000 } from './1768400000000-plan-no-deposit';
import { InstalmentClaimIndex1768500000000 } from './1768500000000-instalment-claim-index';
import { TokenScopesAndPings1768800000000 } from './1768800000000-token-scopes-and-pings';
import { CartReserveBooks1769230000000 } from './1769230000000-cart-reserve-books';
import { GenericPlansForHolds1769230000002 } from './1769230000002-generic-plans-for-holds';
import { DropUnreadOrderIndexes1769250000000 } from './1769250000000-drop-unread-order-indexes';
import { PaymentPendingHot1769280000000 } from './1769280000000-payment-pending-hot';
import { DropOrderSecretUnique1769280000001 } from './1769280000001-drop-order-secret-unique';
import { CartReserveFewerStatements1769300000000 } from './1769300000000-cart-reserve-fewer-statements';
import { PlacementFewerCalls1769310000000 } from './1769310000000-placement-fewer-calls';

/**
 * Core's migrations in order. Never edit a committed one: add a new file. (HttpSession1763950000000
 * moved to the server, which owns the table, under the same name: databases that ran it keep it.)
 */
export const coreMigrations: (new () => MigrationInterface)[] = [InitialSchema1763700000000, JobsAndEmails1763900000000, QuotaUsage1764000000000,
  OrderIdempotencyKey1764100000000, QuotaTriggerPlans1764100000001, UserOperator1765300000000,
  EventPaymentTermLast1765400000000, MoneyLimits1765500000000, ActionKeys1765500000001,
  OrderCountry1765600000000, QuotaTriggerFromSets1766000000000,
  PaymentPlans1767300000000,
  CartReservation1767500000000, QuotaHoldCounter1767500000001, CartReserveBatch1767500000002,
  TeamsAndInvites1767600000000,
  OrganizerWebhooks1767700000000,
  ExportKeysetIndexes1767800000000,
  PlanNoDeposit1768400000000,
  InstalmentClaimIndex1768500000000,
  TokenScopesAndPings1768800000000,
  CartReserveBooks1769230000000, GenericPlansForHolds1769230000002,
  DropUnreadOrderIndexes1769250000000,
  PaymentPendingHot1769280000000, DropOrderSecretUnique1769280000001,
  CartReserveFewerStatements1769300000000,
  PlacementFewerCalls1769310000000,
];
