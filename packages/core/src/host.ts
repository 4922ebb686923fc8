// The host surface of @kassa/core (`@kassa/core/host`): what the server, jobs, the app and the
// test harness need besides the plugin port — services, persistence, configuration, start-up.
// Plugins never import this (a lint rule keeps them out); they get `@kassa/core`.
export * from './index';
// Persistence of the outbox, deliveries, effects and emails (jobs calls these; no SQL of core's tables in jobs).
export { OutboxRelayStore, loadOutboxEvent, loadOutboxEventForDelivery, type OutboxEventRef, type OutboxEventRow } from './persistence/outbox-relay.store';
export { claimOutboxEffect, recordOutboxDelivery, type OutboxDeliveryRecord } from './persistence/outbox-delivery.store';
export {
  insertEmailMessage, unsentSmtpEmailsOfEvent, unsentSmtpEmailsBefore, loadOutgoingEmail, markEmailSent, recordEmailError,
  listEmailMessages, getEmailMessage, type NewEmailMessage, type OutgoingEmailRow, type EmailMessageQuery, type EmailMessageSummary,
} from './persistence/email-message.store';
export {
  loadOrderMailRow, loadPaymentAmount, loadPaymentAndOrderState, loadRefundForMail, organizerAdminEmails, ordersDueForReminder,
  type OrderMailRow, type ReminderDueQuery,
} from './persistence/mail-read.store';
export { organizersOfEmails, organizersOfOutboxEvents, organizersOfOrders } from './persistence/job-scope.store';
export { CatalogStore, type Availability, type LiveEventRow, type EventFields, type ProductFields } from './persistence/catalog.store';
export { AuthStore, type MembershipRow, type ApiTokenRow } from './persistence/auth.store';
export { OrderReadStore, type OrderParts, type DashboardFigures } from './persistence/order-read.store';
// The operator CLI (`pnpm kassa create-organizer|create-operator`): an organizer with its admin team, logins.
export { createOrganizerWithAdminTeam, createUser, findUserByEmail, organizerSlugPattern, type NewOrganizer, type CreatedOrganizer, type NewUser } from './persistence/organizer-admin.store';
