/**
 * Delivery: the outbox relay (claims, reverse-maps, pushes with a deterministic idempotency key,
 * backs off with full jitter, dead-letters permanent failures, cancels what consent no longer
 * allows), IT staff's retry, and the consent revocation reaching the queue.
 */
export { createRelay, runRelayOnce, RELAY_ACTOR, type DeliveryDeps, type DeliveryOutcome, type RelayOptions, type RelayResult } from './relay';
export { cancelDeliveriesForRevokedConsent, retryDelivery } from './control';
export { defaultBackoff, retryDelayMs, type BackoffPolicy } from './backoff';
export { reverseMappingRegistry, runReverse, type ReverseEntry, type ReverseMappingRegistry, type ReverseRoute } from './reverse-mappings';
export { defaultReverseMappings, defaultReverseEntries } from './default-mappings';
