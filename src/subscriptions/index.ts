/** Outbound subscriptions' door: the event schemas vendors receive, the subscription service and its delivery round, the address guard. */
export { DeliveryDeadEvent, EventHeaders, PlanChangedEvent, PlanCreatedEvent, PlanPart, PlanPurgedEvent, PlanSharedEvent, PlanUnsharedEvent, SubscriptionEventBody, SubscriptionTestEvent, webhookEvents } from './events';
export { purgeEventStatements, sharingEventStatements, type ConsentChange } from './sharing-events';
export { EventType, runSubscriptionDeliveries, subscriptionBackoff, subscriptionService, type NewSubscription, type SubscriptionRunResult, type SubscriptionTransport, type SubscriptionView } from './service';
export { checkSubscriptionUrl, internalAddressReason, isAllowedHost, type AddressCheck } from './address-guard';
