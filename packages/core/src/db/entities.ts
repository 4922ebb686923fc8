import { LogEntry } from '../audit/log-entry.entity';
import { Event } from '../event/event.entity';
import { Product } from '../event/product.entity';
import { Quota } from '../event/quota.entity';
import { Order } from '../order/order.entity';
import { OrderFee } from '../order/order-fee.entity';
import { OrderPosition } from '../order/order-position.entity';
import { ApiToken } from '../organizer/api-token.entity';
import { Organizer } from '../organizer/organizer.entity';
import { Team } from '../organizer/team.entity';
import { User } from '../organizer/user.entity';
import { OutboxEvent } from '../outbox/outbox-event.entity';
import { OutboxEffect } from '../outbox/outbox-effect.entity';
import { OutboxDelivery } from '../outbox/outbox-delivery.entity';
import { EmailMessage } from '../email/email-message.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { OrderRefund } from '../refund/order-refund.entity';
import { Setting } from '../settings/setting.entity';

/** Every entity core owns. Plugins add their own through definePlugin({ entities }). */
export const coreEntities = [
  Organizer, User, Team, ApiToken, Event, Product, Quota, Order, OrderPosition, OrderFee,
  OrderPayment, OrderRefund, LogEntry, OutboxEvent, Setting,
  OutboxEffect, OutboxDelivery, EmailMessage,
];
