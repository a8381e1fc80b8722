/**
 * Inbound webhooks (architecture: "a job … or an inbound webhook asks an adapter for changes").
 * A sector system that has changes sends a signed notice; we check the signature (S2), store the
 * notice before answering 2xx (nothing accepted is lost), and recognise one sent again by its id
 * (F4: one effect per event). A notice carries no plan data and no CPR number — it says "read my
 * changes for municipality X" — so the data still arrives only through the adapter's pull, under
 * the consent gate, for enrolled citizens only (R9, R12).
 *
 * Processing (`processInboundWebhooks`) runs the adapter's sync for the tenant once for all the
 * notices waiting from that source, and marks them with the run. A failed run leaves them waiting,
 * tried again later and later (backoff) until `inboundBackoff.maxAttempts`, then dead: kept for IT
 * staff, who can have one processed again (`retryDeadNotice`). A run cut short at
 * SYNC_MAX_CITIZENS_PER_RUN leaves them waiting too, uncounted, and asks for the next one (job queue).
 */
import { z } from 'zod';
import { ProblemError, type AppDeps } from '../api/context';
import { defaultBackoff, retryDelayMs, type BackoffPolicy } from '../delivery/backoff';
import { SourceSystem } from '../model';
import { actorOf, type Principal } from '../security';
import type { InboundWebhookRow } from '../store';
import { holdsCprNumber } from '../security/redact';
import { askForJob } from '../runtime/job-queue';
import { goesOnAtOnce, runSyncNow } from '../sync/on-demand';
import { verifyWebhook, type WebhookHeaders } from './standard-webhooks';

/** A notice is a few hundred bytes; anything near this is not one. */
export const MAX_NOTICE_BYTES = 16 * 1024;

/** The body of a notice: Standard Webhooks' `{ type, timestamp, data }`, our one event type. */
export const InboundNotice = z.object({
  type: z.literal('records.changed'),
  timestamp: z.string().max(40).optional(),
  data: z.object({
    /** The municipality (kommunekode) whose citizens' records changed: the tenant whose sync runs. */
    municipality: z.string().regex(/^\d{3}$/, 'a kommunekode of three digits'),
    /** How many records changed, if the source says (for the log; the pull reads what is there). */
    changed: z.number().int().nonnegative().optional(),
  }),
});

export interface ReceivedNotice {
  webhookId: string;
  tenant: string;
  source: SourceSystem;
  duplicate: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Checks, stores and acknowledges one notice; throws a ProblemError for anything it refuses. The
 * body comes as the bytes received: they are what the source signed.
 */
export async function receiveInboundWebhook(deps: AppDeps, source: string, headers: WebhookHeaders, received: Uint8Array): Promise<ReceivedNotice> {
  const system = SourceSystem.safeParse(source);
  const secrets = system.success ? deps.config.inboundWebhookSecrets[system.data] : undefined;
  if (!system.success || !secrets) throw new ProblemError('not-found', `no inbound webhook is configured for ${source.slice(0, 40)}`);
  if (received.byteLength > MAX_NOTICE_BYTES) throw new ProblemError('payload-too-large', `a change notice is at most ${MAX_NOTICE_BYTES} bytes`);
  const verified = await verifyWebhook(headers, received, secrets, deps.clock.now());
  if (!verified.ok) throw new ProblemError('webhook-signature-invalid', verified.reason);
  let body: string;
  try {
    body = utf8.decode(received); // a leading byte-order mark is dropped, as JSON readers may
  } catch {
    throw new ProblemError('malformed-json', 'the notice is not UTF-8 (RFC 8259: JSON between systems is UTF-8)');
  }
  // Signed by the source, and still refused: a CPR number must never travel in a webhook (architecture, S4).
  // The body as written and as decoded (JSON escapes), and the id, which is stored and shown to IT staff.
  if (holdsCprNumber(body)) throw new ProblemError('personal-data-in-webhook', 'the body holds a CPR number; it was not stored. Send only the municipality: we read the records through the pull');
  if (holdsCprNumber(verified.id)) throw new ProblemError('personal-data-in-webhook', 'the webhook-id holds a CPR number; the notice was not stored. Use an id of your own that says nothing about a person');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ProblemError('malformed-json', 'the notice is not JSON');
  }
  const notice = InboundNotice.safeParse(json);
  if (!notice.success) throw new ProblemError('validation-failed', notice.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  const tenant = notice.data.data.municipality;
  const stored = await deps.store.inboundWebhooks.receive({ source: system.data, webhookId: verified.id, tenant, eventType: notice.data.type, body, receivedAt: deps.clock.now().toISOString() });
  return { webhookId: verified.id, tenant, source: system.data, duplicate: stored === 'duplicate' };
}

export interface InboundProcessingResult {
  /**
   * `continued`: the run stopped at its limit having read everyone it tried; the notices wait for
   * the run that goes on at once. A run that stopped at its limit with citizens it could not read
   * is `succeeded`, its notices waiting for the next pass.
   */
  runs: { tenant: string; source: string; notices: number; runId: string | null; status: 'succeeded' | 'failed' | 'ignored' | 'continued' }[];
}

/** How long a processor holds the notices it took: longer than a sync run may take. */
const LEASE_MS = 15 * 60_000;
const CLAIM_PAGE = 1000;

/**
 * Failed runs are tried again after a delay from 1 minute doubling to an hour, ten tries in all
 * (about four hours at most): a source down for a restart or a deploy still gets its notices
 * answered, one that stays down does not keep a sync failing every pass. The scheduled sync reads
 * the same changes meanwhile; a dead notice only means no run it asked for succeeded.
 */
export const inboundBackoff: BackoffPolicy = { ...defaultBackoff, baseMs: 60_000, capMs: 60 * 60_000, maxAttempts: 10 };

/**
 * Runs one sync per (tenant, source) with notices waiting — all of that source's waiting notices
 * are answered by the one run, which reads every change since the cursor. `only` narrows it to
 * what one request just stored. Notices that arrive while the run goes wait for the next one.
 */
export async function processInboundWebhooks(
  deps: AppDeps,
  only?: { tenant: string; source: string },
  options: { backoff?: BackoffPolicy; random?: () => number } = {},
): Promise<InboundProcessingResult> {
  const result: InboundProcessingResult = { runs: [] };
  const now = () => deps.clock.now();
  const policy = options.backoff ?? inboundBackoff;
  const groups = only ? [only] : await deps.store.inboundWebhooks.waiting(now().toISOString());
  for (const { tenant, source } of groups) {
    // Every notice waiting now is answered by the one run that follows: take them all, page by page.
    let claimed: { webhookId: string; attempts: number }[] = [];
    for (let pages = 0; pages < 100; pages++) {
      const at = now();
      const page = await deps.store.inboundWebhooks.claim(tenant, source, at.toISOString(), new Date(at.getTime() + LEASE_MS).toISOString(), CLAIM_PAGE);
      claimed.push(...page);
      if (page.length < CLAIM_PAGE) break;
    }
    // Taken again after a last try whose run never reported (its processor stopped): no more runs for them.
    const spent = claimed.filter((row) => row.attempts > policy.maxAttempts).map((row) => row.webhookId);
    await deps.store.inboundWebhooks.bury(tenant, source, spent, `gave up after ${policy.maxAttempts} attempts; the last run never reported (its processor stopped)`);
    claimed = claimed.filter((row) => row.attempts <= policy.maxAttempts);
    if (claimed.length === 0) continue;
    const ids = claimed.map((row) => row.webhookId);
    /** The run did not answer them: each waits out its backoff, or is dead after its last try. */
    const failed = async (error: string) => {
      for (const attempts of new Set(claimed.map((row) => row.attempts))) {
        const those = claimed.filter((row) => row.attempts === attempts).map((row) => row.webhookId);
        if (attempts >= policy.maxAttempts) await deps.store.inboundWebhooks.bury(tenant, source, those, `gave up after ${attempts} attempts; last: ${error}`.slice(0, 500));
        else await deps.store.inboundWebhooks.retryLater(tenant, source, those, error.slice(0, 500), new Date(now().getTime() + retryDelayMs(attempts, policy, options.random)).toISOString());
      }
    };
    const system = source as SourceSystem;
    if (!deps.adapters[system]) {
      await deps.store.inboundWebhooks.finish(tenant, source, ids, { status: 'ignored', runId: null, reason: `no ${source} adapter is configured in this deployment`, at: now().toISOString() });
      result.runs.push({ tenant, source, notices: ids.length, runId: null, status: 'ignored' });
      continue;
    }
    try {
      const run = await runSyncNow(deps, { tenant, adapter: system, trigger: `webhook:${source}` });
      if (run.status === 'succeeded' && run.stats.stoppedAtLimit) {
        // Cut short at SYNC_MAX_CITIZENS_PER_RUN: the changes are not all read yet, so the notices
        // wait (released, not answered) and the next run goes on where this one stopped — at once
        // through the job queue where there is one, else on the next pass (a Cron Trigger on
        // Workers, the minute's sweep on Node). Not at once after a run with citizens it could not
        // read: they come first again, and a tight loop would read the same failing page.
        const goesOn = goesOnAtOnce(run);
        const reason = `run ${run.runId} stopped at its limit of citizens per run (SYNC_MAX_CITIZENS_PER_RUN); the next run goes on`;
        // Citizens it could not read are a failed try: they come first again.
        if (!goesOn) await failed(`${reason}, after ${run.stats.pullErrors} citizens could not be read`);
        else {
          await deps.store.inboundWebhooks.release(tenant, source, ids, reason.slice(0, 500));
          await askForJob(deps, { kind: 'inbound', tenant, source: system });
        }
        result.runs.push({ tenant, source, notices: ids.length, runId: run.runId, status: goesOn ? 'continued' : 'succeeded' });
      } else if (run.status === 'succeeded') {
        await deps.store.inboundWebhooks.finish(tenant, source, ids, { status: 'processed', runId: run.runId, at: now().toISOString() });
        result.runs.push({ tenant, source, notices: ids.length, runId: run.runId, status: run.status });
      } else {
        await failed(`run ${run.runId} failed: ${run.error ?? 'see the run'}`);
        result.runs.push({ tenant, source, notices: ids.length, runId: run.runId, status: run.status });
      }
    } catch (error) {
      await failed(error instanceof Error ? error.message : String(error));
      deps.logger.warn('inbound webhook processing failed', { tenant, source, notices: ids.length });
      result.runs.push({ tenant, source, notices: ids.length, runId: null, status: 'failed' });
    }
  }
  return result;
}

/**
 * A dead notice waits again, due at once, its tries counted afresh — for IT staff once the source is
 * fixed. Audited; null when there is no such notice; refused for one that is not dead.
 */
export async function retryDeadNotice(deps: AppDeps, principal: Principal, source: string, webhookId: string): Promise<InboundWebhookRow | null> {
  const { store } = deps;
  const entry = { at: deps.clock.now().toISOString(), actor: actorOf(principal), action: 'inbound-webhook.retried', targetType: 'inbound-webhook', targetId: `${source}:${webhookId}`, detail: {} };
  const retried = await store.audit.appendIfOneRowChanged(principal.tenant, [entry], store.inboundWebhooks.retryDeadStatement(principal.tenant, source, webhookId));
  const row = await store.inboundWebhooks.get(principal.tenant, source, webhookId);
  if (!retried && row) throw new ProblemError('inbound-notice-not-retryable', `the notice is ${row.status}; only a dead one is processed again`);
  return row;
}

/**
 * Node: one processor per service. A notice wakes it (`nudge`); passes start at most once per
 * `minIntervalMs`, and notices arriving while one runs are taken by the next, so a burst of
 * notices costs a run or two per source, not one each — and a flood cannot keep a sync running
 * back to back.
 */
export function inboundWebhookProcessor(deps: AppDeps, options: { minIntervalMs?: number } = {}) {
  const minIntervalMs = options.minIntervalMs ?? 1000;
  let running: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastStarted = Number.NEGATIVE_INFINITY;
  let again = false;
  let stopped = false;

  const start = () => {
    lastStarted = Date.now();
    running = processInboundWebhooks(deps)
      .then((result) => {
        // A run cut short at SYNC_MAX_CITIZENS_PER_RUN goes on in the next pass (at most one a `minIntervalMs`).
        if (result.runs.some((run) => run.status === 'continued')) again = true;
      })
      .catch((error) => deps.logger.error('inbound webhook processor failed', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          nudge();
        }
      });
  };
  function nudge(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) return;
    const wait = lastStarted + minIntervalMs - Date.now();
    if (wait <= 0) start();
    else {
      timer = setTimeout(() => {
        timer = undefined;
        start();
      }, wait);
      timer.unref?.();
    }
  }
  return {
    nudge,
    /** Resolves when no pass runs and none is due. */
    async idle(): Promise<void> {
      while (running || timer) await (running ?? new Promise((resolve) => setTimeout(resolve, 5)));
    },
    /** No new passes; waits for one that runs. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
