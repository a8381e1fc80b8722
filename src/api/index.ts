/**
 * The HTTP API's door: every route module (one per concern, each an OpenAPIHono router), the
 * request context and the problem documents. `src/app.ts` mounts the routes.
 */
export { type AppDeps, type AppEnv, type Clock, ProblemError } from './context';
export { DocsPage } from './docs';
export { problemResponse, problemTypes } from './problem';
export { authenticate } from './security';
export { citizenRoutes } from './citizen';
export { consentRoutes } from './consents';
export { consentTextRoutes } from './consent-texts';
export { dataSubjectRoutes } from './data-subject';
export { healthRoutes } from './health';
export { mappingRoutes } from './mappings';
export { monitoringApiRoutes, monitoringPageRoutes } from './monitoring';
export { outboxRoutes } from './outbox';
export { planRoutes } from './plans';
export { planSharingRoutes } from './plan-sharing';
export { processingRecordRoutes } from './processing-record';
export { registrationRoutes } from './registrations';
export { statsRoutes } from './stats';
export { subscriptionRoutes } from './subscriptions';
export { syncRoutes } from './sync';
export { webhookRoutes } from './webhooks';
export { worklistRoutes } from './worklists';
