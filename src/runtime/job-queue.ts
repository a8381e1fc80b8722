/**
 * The job queue on Workers (a Queues binding, `JOBS`): work that should run soon rather than at the
 * next Cron Trigger. The database stays the source of truth — an outbox row or a sync cursor is
 * written before any message about it — so a message lost or given up on only waits for the next
 * trigger; a message is a nudge, never the work itself (decision 0020).
 *
 * - `relay`: a registration was accepted; deliver its outbox rows now, not in up to five minutes.
 * - `sync`: a scheduled sync stopped at its per-invocation limit (D1 allows 1,000 queries per
 *   invocation); go on in a fresh invocation at once, so a large first sync takes minutes, not a
 *   trigger per page.
 * - `inbound`: a sector system's change notice was stored; read its changes in an invocation of
 *   their own (retried if it fails) rather than in the webhook request's `waitUntil`.
 */
import { z } from 'zod';
import type { AppDeps } from '../api/context';
import { MunicipalityCode as Tenant, SourceSystem } from '../model';

export const JobMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('relay'), tenant: Tenant }).strict(),
  z.object({ kind: z.literal('sync'), tenant: Tenant, adapters: z.array(SourceSystem).min(1).max(4), trigger: z.string().min(1).max(100) }).strict(),
  z.object({ kind: z.literal('inbound'), tenant: Tenant, source: SourceSystem }).strict(),
]);
export type JobMessage = z.infer<typeof JobMessage>;

/** Where job messages go: the Queues producer binding on Workers. */
export interface JobQueue {
  send(message: JobMessage): Promise<void>;
}

/** The producer side of a Queues binding, as far as we use it. */
export interface QueueProducer {
  send(body: unknown, options?: { contentType?: 'json' | 'text' | 'bytes' | 'v8' }): Promise<void>;
}

export function queueOf(binding: QueueProducer): JobQueue {
  return { send: (message) => binding.send(message, { contentType: 'json' }) };
}

/**
 * Asks for a job soon if this deployment has a queue; true if the message was sent. Never fails its
 * caller: what was asked for is already in the database, and the next trigger does it if the
 * message cannot be sent.
 */
export async function askForJob(deps: Pick<AppDeps, 'jobs' | 'logger'>, message: JobMessage): Promise<boolean> {
  if (!deps.jobs) return false;
  try {
    await deps.jobs.send(message);
    return true;
  } catch (error) {
    deps.logger.warn('job message not sent; the next scheduled trigger does the work', { kind: message.kind, tenant: message.tenant, error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}
