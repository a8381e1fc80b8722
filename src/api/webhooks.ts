/** `/v1/webhooks/inbound/{source}`: a sector system tells us it has changes (Standard Webhooks, S2). */
import { newRouter } from './router';

export const webhookRoutes = newRouter();
