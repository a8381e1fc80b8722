/**
 * Control of deliveries from outside the relay: IT staff's retry of a dead letter (or of a row
 * waiting for its next try), and the consent revocation reaching the queue (S3, R10).
 */
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { consentFor } from '../registrations/routing';
import type { OutboxPayload } from '../registrations/service';
import { actorOf, type Principal } from '../security';
import type { OutboxRow } from '../store';
import { createRelay, type DeliveryOutcome, type RelayOptions } from './relay';

/**
 * Makes a dead or retrying row due now and tries it at once (in the request), so IT staff see
 * the result. The idempotency key is unchanged, so a target that had in fact applied it does not
 * apply it twice. A cancelled row is not retried: its consent is gone (S3). Nor is a row a later
 * row of the same element supersedes — delivered, or (for a dead one) still on its way: it carries
 * older content, which would overwrite the newer at the target (F4, R18; decision 0005, "Later").
 */
export async function retryDelivery(deps: AppDeps, principal: Principal, id: string, options: RelayOptions = {}): Promise<{ row: OutboxRow; attempt: DeliveryOutcome | 'not-due' } | null> {
  const { store, clock } = deps;
  const row = await store.outbox.get(principal.tenant, id);
  if (!row) return null;
  if (row.status !== 'dead' && row.status !== 'retrying')
    throw new ProblemError('outbox-not-retryable', `the delivery is ${row.status}; only dead or retrying deliveries can be retried`);
  const superseded = async () => {
    const later = await store.outbox.supersedingRow(principal.tenant, id, row.status === 'dead');
    if (!later) return null;
    const how = later.status === 'delivered' ? 'delivered' : 'waiting to go';
    return new ProblemError(
      'outbox-not-retryable',
      `superseded by delivery ${later.id} of the same element, ${how} with newer content (registration ${later.registrationId}); sending this older content now would overwrite it at ${row.target}`,
    );
  };
  const refused = await superseded();
  if (refused) throw refused;
  const at = clock.now().toISOString();
  const entry = {
    at,
    actor: actorOf(principal),
    action: 'delivery.retry-requested',
    targetType: 'outbox',
    targetId: id,
    citizenId: row.citizenId,
    detail: { registrationId: row.registrationId, target: row.target, previousStatus: row.status, previousError: row.lastError },
  };
  // Requeued with its audit row, and only if the row was still dead or waiting when the batch ran.
  // The superseding check is repeated in the write itself, so a later row delivered meanwhile counts.
  if (!(await store.audit.appendIfOneRowChanged(principal.tenant, [entry], store.outbox.requeueStatement(principal.tenant, id, at, { unlessSuperseded: true }))))
    throw (await superseded()) ?? new ProblemError('outbox-not-retryable', 'the delivery changed meanwhile; read it again');
  const attempt = await createRelay(deps, { ...options, tenant: principal.tenant }).deliverOne(principal.tenant, id);
  return { row: (await store.outbox.get(principal.tenant, id))!, attempt };
}

/**
 * After a consent grant (or legal-basis record) was revoked: every pending or retrying delivery
 * of that citizen whose flow the policy no longer allows ends as `cancelled` with the reason,
 * audited. Rows still allowed (e.g. covered by another grant) are kept. Call it right after the
 * revocation is stored; the relay re-checks consent before every push as well.
 */
export async function cancelDeliveriesForRevokedConsent(
  deps: AppDeps,
  tenant: string,
  grantId: string,
  actor = 'system:consent-revocation',
): Promise<{ cancelled: number; kept: number }> {
  const { store, clock } = deps;
  const grant = await store.consents.get(tenant, grantId);
  if (!grant) return { cancelled: 0, kept: 0 };
  const rows = await store.outbox.liveForCitizen(tenant, grant.citizenId);
  if (rows.length === 0) return { cancelled: 0, kept: 0 };
  const consents = await store.consents.forCitizens(tenant, [grant.citizenId]);
  const citizen = await store.citizens.get(tenant, grant.citizenId);
  const now = clock.now();
  let cancelled = 0;
  let kept = 0;
  for (const row of rows) {
    const payload = JSON.parse(row.payload ?? 'null') as OutboxPayload | null;
    if (!payload?.route) {
      kept++;
      continue;
    }
    const flow = consentFor({ citizenId: row.citizenId, birthDate: citizen?.birthDate ?? payload.outbound.birthDate }, payload.route, consents, now);
    if (flow.allowed) {
      kept++;
      continue;
    }
    const reason = `consent ${grantId} was revoked; ${payload.route.category} data may no longer flow to ${payload.route.recipient}: ${flow.reason}`;
    const entry = { at: now.toISOString(), actor, action: 'delivery.cancelled', targetType: 'outbox', targetId: row.id, citizenId: row.citizenId, detail: { registrationId: row.registrationId, target: row.target, grantId, reason } };
    // A row the relay finished meanwhile is neither cancelled nor logged as such.
    if (await store.audit.appendIfOneRowChanged(tenant, [entry], store.outbox.markCancelledStatement(tenant, row.id, reason, now.toISOString()))) cancelled++;
  }
  return { cancelled, kept };
}
