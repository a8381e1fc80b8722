/** Inbound webhooks' door: Standard Webhooks signatures, and change notices stored before the 2xx and processed under a lease. */
export { signWebhook, verifyWebhook, secretBytes, TOLERANCE_SECONDS, type Verification, type WebhookHeaders } from './standard-webhooks';
export { receiveInboundWebhook, processInboundWebhooks, inboundWebhookProcessor, type InboundNotice, type InboundProcessingResult, type ReceivedNotice } from './inbound';
