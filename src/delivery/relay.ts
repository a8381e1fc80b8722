/**
 * The outbox relay. One run: for each tenant with due rows, take the rows that head their
 * citizen's queue to their target, claim each with a lease, and deliver:
 *
 *   consent re-checked now (decideFlow) ─ no  → cancelled, with the policy's reason (S3, R10)
 *   reverse mapping found and succeeds  ─ no  → dead, saying which mapping and why
 *   adapter.push(op, idempotency key)   ─ ok  → delivered, with the target's receipt
 *                                       ─ permanent AdapterError → dead, with the target's reason
 *                                       ─ anything else → retrying, backoff with full jitter,
 *                                         never sooner than Retry-After; dead after maxAttempts
 *
 * The idempotency key is the outbox row's id: fixed when the registration is accepted, the same
 * on every retry and after every crash, so the target applies each row at most once. A crash
 * between the target's effect and our bookkeeping only means the row comes due again when its
 * lease runs out and is replayed under the same key. Final outcomes are audited.
 *
 * Leases: a run claims its rows wave by wave (`concurrency` rows, one write), and pushes a wave's
 * rows right after claiming them, each push cut at the lease's end; so no row waits behind other
 * pushes while its lease runs out (a concurrent relay would push it too). Each delivery is recorded
 * as soon as its push returns, with its audit entry and only if the row was not recorded already.
 *
 * A row a later delivered row of the same element superseded (it was dead, then replayed) is never
 * sent: its content is older than what the target has (decision 0005, "Later").
 *
 * A field-level write (FHIR) leaves a field both sides changed as the target holds it: still
 * delivered, its receipt and audit entry name those fields (`keptTheirs`), and the next pull flags
 * the conflict on the plan. The relay tells the adapter what the plan knows (`planKnowledge`), so a
 * change made here after theirs was read, or a person's choice of ours, is written (0005, session 19).
 */
import { AdapterError, type PushOperation, type PushReceipt } from '../../adapters/adapter';
import { adaptersOf, type AppDeps } from '../api/context';
import type { Plan, Provenance, SourceSystem } from '../model';
import { settlementKey } from '../plans/conflicts';
import { elementLists } from '../plans/references';
import type { OutboundOperation } from '../registrations/apply';
import { consentFor, updatesOnlyReason } from '../registrations/routing';
import type { OutboxPayload } from '../registrations/service';
import { MisplacedCiphertextError } from '../security/cpr-vault';
import { redactCpr } from '../security/redact';
import type { AuditEntry, CitizenRow, OutboxRow } from '../store';
import type { Statement } from '../store/db';
import type { ClaimedOutboxRow } from '../store/outbox';
import { isLostWriteAbort } from '../store/write-guard';
import { closedBySync } from '../sync/merge';
import { defaultBackoff, retryDelayMs, type BackoffPolicy } from './backoff';
import { defaultReverseMappings } from './default-mappings';
import { runReverse, type ReverseMappingRegistry } from './reverse-mappings';

export interface RelayOptions {
  /** Rows per tenant per run. Default 100. */
  limit?: number;
  /** Only this tenant (default: every tenant with due rows). */
  tenant?: string;
  /** Pushes in flight at once, and rows claimed per wave. Default 16. */
  concurrency?: number;
  /** How long a claimed row is ours; must exceed `pushTimeoutMs` (a push is cut at the lease's end). Default 60 s. */
  leaseMs?: number;
  /** A push that takes longer counts as a transient failure. Default 30 s. */
  pushTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  random?: () => number;
  reverseMappings?: ReverseMappingRegistry;
}

export interface RelayResult {
  delivered: number;
  retried: number;
  dead: number;
  cancelled: number;
}

export type DeliveryOutcome = keyof RelayResult | 'lost';

export const RELAY_ACTOR = 'system:outbox-relay';

class PushTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PushTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const describeError = (error: unknown) => redactCpr(error instanceof Error ? error.message : String(error)).slice(0, 500);

/**
 * Deployment-wide relay settings may ride on the deps as `delivery` (tests, benchmarks, and a
 * deployment that wants other timings); per-call options win. Until `AppDeps` declares the field
 * it is read through this type.
 */
export type DeliveryDeps = AppDeps & { delivery?: RelayOptions };

export function createRelay(deps: AppDeps, callOptions: RelayOptions = {}) {
  const options: RelayOptions = { ...(deps as DeliveryDeps).delivery, ...callOptions };
  const { store, clock, vault, logger } = deps;
  const leaseMs = options.leaseMs ?? 60_000;
  const pushTimeoutMs = options.pushTimeoutMs ?? 30_000;
  const backoff: BackoffPolicy = { ...defaultBackoff, ...options.backoff };
  const random = options.random ?? Math.random;
  const registry = options.reverseMappings ?? defaultReverseMappings;
  const iso = (ms: number) => new Date(ms).toISOString();

  const entryOf = (row: OutboxRow, action: string, detail: Record<string, unknown>): AuditEntry => ({
      at: clock.now().toISOString(),
      actor: RELAY_ACTOR,
      action,
      targetType: 'outbox',
      targetId: row.id,
      citizenId: row.citizenId,
      detail: { registrationId: row.registrationId, target: row.target, operation: row.operation, attempts: row.attempts, ...detail },
    });

  async function dead(row: OutboxRow, reason: string): Promise<DeliveryOutcome> {
    // Dead-lettered with its audit row, and only if still live (another relay may have finished it).
    if (!(await store.audit.appendIfOneRowChanged(row.tenant, [entryOf(row, 'delivery.dead', { reason })], store.outbox.markDeadStatement(row.tenant, row.id, reason, clock.now().toISOString())))) return 'lost';
    logger.warn('delivery dead-lettered', { outboxId: row.id, target: row.target, reason });
    return 'dead';
  }

  async function retry(row: OutboxRow, error: string, retryAfterSeconds?: number): Promise<DeliveryOutcome> {
    if (row.attempts >= backoff.maxAttempts) return dead(row, `gave up after ${row.attempts} attempts; last error: ${error}`);
    const now = clock.now().getTime();
    const nextAt = iso(now + retryDelayMs(row.attempts, backoff, random, retryAfterSeconds));
    return (await store.outbox.markRetrying(row.tenant, row.id, nextAt, error, iso(now))) ? 'retried' : 'lost';
  }

  /**
   * What the target answered for the latest earlier delivery of the same element (ordering makes it
   * final), with that delivery's element and mapping: what we last sent, for a field-level write.
   */
  async function earlierReceipt(
    row: OutboxRow,
    elementId: string,
  ): Promise<{ targetId: string; version?: string; fieldLevel?: boolean; mapping?: string; outbound: OutboxPayload['outbound'] } | null> {
    for (const earlier of await store.outbox.deliveredBefore(row.tenant, row.citizenId, row.target, row.sequence, elementId)) {
      try {
        const payload = JSON.parse(earlier.payload ?? 'null') as OutboxPayload | null;
        if (payload?.outbound.elementId !== elementId || !earlier.receipt) continue;
        const receipt = JSON.parse(earlier.receipt) as { targetId?: string; version?: string; fieldLevel?: boolean; mapping?: string };
        if (receipt.targetId)
          return {
            targetId: receipt.targetId,
            outbound: payload.outbound,
            ...(receipt.version ? { version: receipt.version } : {}),
            ...(receipt.fieldLevel ? { fieldLevel: true } : {}),
            ...(receipt.mapping ? { mapping: receipt.mapping } : {}),
          };
      } catch {
        continue;
      }
    }
    return null;
  }

  /**
   * What the plan knows of the target's record `recordId` behind the element, for a field-level
   * write: the version of it the plan read, unless a conflict with it is open (`seenVersion`: a
   * field changed there and here since was changed here after theirs was seen); and whether this
   * row sends a person's settlement of a conflict on the element in favour of our content
   * (`oursWins`: written even where they hold a value of their own). Their value chosen: nothing
   * forces it, what we send is theirs already.
   */
  async function planKnowledge(row: OutboxRow, outbound: OutboxPayload['outbound'], target: SourceSystem, recordId: string): Promise<{ seenVersion?: string; oursWins?: boolean }> {
    const plan = await store.plans.get(row.tenant, outbound.planId);
    const elementId = outbound.elementId;
    if (!plan || !elementId) return {};
    const theirRecord = (p: Provenance) => p.kind === 'source' && p.system === target && p.recordId === recordId;
    const onElement = plan.conflicts.filter((c) => c.elementId === elementId);
    const disputed = onElement.some((c) => !c.resolvedAt && c.values.some((v) => v.provenance.some(theirRecord)));
    const read = elementProvenance(plan, elementId).find(theirRecord);
    const seenVersion = !disputed && read?.kind === 'source' ? read.recordVersion : undefined;
    const settled = onElement.filter((c) => c.resolution && !closedBySync(c));
    let oursWins = false;
    if (settled.length > 0) {
      const key = (await store.registrations.get(row.tenant, outbound.registrationId))?.idempotencyKey;
      const settles = settled.find((c) => key === settlementKey(plan.id, c.id));
      oursWins = !!settles && !settles.values[settles.resolution!.chosen]?.provenance.some(theirRecord);
    }
    return { ...(seenVersion ? { seenVersion } : {}), ...(oursWins ? { oursWins } : {}) };
  }

  /** `statements`: the delivered mark, then its guard; `alongWith`: written with them (what the target now holds). */
  type Delivered = { row: OutboxRow; statements: Statement[]; entry: AuditEntry; alongWith: Statement[] };
  type RecordDelivery = (delivered: Delivered) => Promise<boolean>;

  /**
   * Records deliveries as their pushes return: each its delivered mark, a guard, and its
   * `delivery.delivered` entry. Those that return while an earlier write runs are written together
   * in one batch (group commit: a busy relay does not pay a commit per row); if that batch meets a
   * row recorded already (another relay's, its lease having run out), each is written alone, so only
   * that one is left out. Resolves true when the row was recorded by this call.
   */
  function recorder(tenant: string): RecordDelivery {
    let waiting: { delivered: Delivered; resolve: (recorded: boolean) => void; reject: (error: unknown) => void }[] = [];
    let writing = false;
    const writeAlone = async (w: (typeof waiting)[number]) => {
      try {
        // The mark alone: appendIfOneRowChanged puts the same guard after it.
        w.resolve(await store.audit.appendIfOneRowChanged(tenant, [w.delivered.entry], w.delivered.statements[0]!, w.delivered.alongWith));
      } catch (error) {
        w.reject(error);
      }
    };
    async function writeWaiting() {
      writing = true;
      try {
        while (waiting.length > 0) {
          const group = waiting;
          waiting = [];
          if (group.length === 1) {
            await writeAlone(group[0]!);
            continue;
          }
          try {
            await store.audit.appendMany(tenant, group.map((w) => w.delivered.entry), group.flatMap((w) => [...w.delivered.statements, ...w.delivered.alongWith]));
            for (const w of group) w.resolve(true);
          } catch (error) {
            if (!isLostWriteAbort(error)) for (const w of group) w.reject(error);
            else for (const w of group) await writeAlone(w);
          }
        }
      } finally {
        writing = false;
      }
    }
    return (delivered) =>
      new Promise<boolean>((resolve, reject) => {
        waiting.push({ delivered, resolve, reject });
        if (!writing) void writeWaiting();
      });
  }

  /** Delivers one claimed row (its `attempts` already counts this try) under a lease that ends at `leaseUntil`. */
  async function deliver(row: ClaimedOutboxRow, citizen: CitizenRow | undefined, leaseUntil: number, record: RecordDelivery): Promise<DeliveryOutcome> {
    if (row.supersededBy) {
      // Dead, then requeued after a later row of the same element was delivered: its content is older
      // than what the target holds (and, for a target addressed by receipt, would make a second resource).
      const reason = `superseded by delivery ${row.supersededBy} of the same element, delivered with newer content; this older content is not sent`;
      const entry = entryOf(row, 'delivery.superseded', { reason, supersededBy: row.supersededBy });
      if (!(await store.audit.appendIfOneRowChanged(row.tenant, [entry], store.outbox.markCancelledStatement(row.tenant, row.id, reason, clock.now().toISOString())))) return 'lost';
      return 'cancelled';
    }
    let payload: OutboxPayload;
    try {
      payload = JSON.parse(row.payload ?? 'null') as OutboxPayload;
      if (!payload?.outbound || !payload.route) throw new Error('incomplete');
    } catch {
      return dead(row, 'the outbox row’s payload is unreadable');
    }
    const { outbound, route } = payload;
    if (!citizen) return dead(row, 'the citizen record no longer exists');

    // Read fresh for every row, just before the push: a revocation a moment ago must count (S3).
    const consents = await store.consents.forCitizens(row.tenant, [row.citizenId]);
    const flow = consentFor({ citizenId: row.citizenId, birthDate: citizen.birthDate }, route, consents, clock.now());
    if (!flow.allowed) {
      const reason = `consent no longer allows ${route.category} data to flow to ${route.recipient}: ${flow.reason}`;
      const entry = entryOf(row, 'delivery.cancelled', { reason, recipient: route.recipient, category: route.category });
      if (!(await store.audit.appendIfOneRowChanged(row.tenant, [entry], store.outbox.markCancelledStatement(row.tenant, row.id, reason, clock.now().toISOString())))) return 'lost';
      return 'cancelled';
    }

    const target = row.target as SourceSystem;
    const adapter = adaptersOf(deps, row.tenant)[target];
    if (!adapter) return retry(row, `no adapter for ${target} is configured in this deployment`);
    const reverse = registry.find(target, row.operation as OutboundOperation);
    if (!reverse) return dead(row, `no reverse mapping turns ${row.operation} into a ${target} operation; deploy one, then retry`);
    const mapped = runReverse(reverse, outbound);
    if (!mapped.ok) return dead(row, `reverse mapping ${reverse.mapping.id}@${reverse.mapping.version} cannot express it for ${target}: ${redactCpr(mapped.reason).slice(0, 400)}`);

    let pushPayload = mapped.payload;
    let expectedVersion: string | undefined;
    let fieldLevel: { previousPayload?: unknown; fieldLevel?: boolean; seenVersion?: string; oursWins?: boolean; theirRecord?: PushOperation['theirRecord'] } = {};
    // The target's own record (a Goal it made): our content is placed among theirs, field by field.
    const own = reverse.addressBy === 'receipt' ? reverse.theirOwnRecord : undefined;
    const theirRecordId = own?.idOf(outbound);
    // Each payload placed by the element it was made from: what we send now, what we last sent (`earlier`), their record as the plan read it.
    const theirRecordFor = (earlier?: OutboxPayload['outbound']): Pick<PushOperation, 'theirRecord'> =>
      own && theirRecordId
        ? {
            theirRecord: {
              place: (payload, record) => own.place(outbound, payload, record),
              placePrevious: (payload, record) => own.place(earlier ?? outbound, payload, record),
              asRead: (read, record) => own.asRead(outbound, read, record),
            },
          }
        : {};
    if (reverse.addressBy === 'receipt' && outbound.elementId) {
      const earlier = await earlierReceipt(row, outbound.elementId);
      if (earlier) {
        pushPayload = { ...(mapped.payload as object), id: earlier.targetId };
        expectedVersion = earlier.version;
        // What we last sent, made again by the mapping that sent it (the rows keep the element, not the
        // payload); under another mapping version it is unknown, and a field-level write sends all our fields.
        const previous = earlier.mapping === `${reverse.mapping.id}@${reverse.mapping.version}` ? runReverse(reverse, earlier.outbound) : undefined;
        fieldLevel = {
          ...(previous?.ok ? { previousPayload: previous.payload } : {}),
          ...(earlier.fieldLevel ? { fieldLevel: true } : {}),
          ...(await planKnowledge(row, outbound, target, earlier.targetId)),
          ...theirRecordFor(earlier.outbound),
        };
      } else if (theirRecordId) {
        // Nothing sent before: compared with what their record read as when the plan read it (that version, by vread).
        pushPayload = { ...(mapped.payload as object), id: theirRecordId };
        fieldLevel = { fieldLevel: true, ...(await planKnowledge(row, outbound, target, theirRecordId)), ...theirRecordFor() };
      } else {
        // Ending or cancelling what the target never got (its earlier delivery died or was cancelled):
        // nothing there to change, and a create would make a resource for it.
        const onlyUpdates = updatesOnlyReason(reverse, outbound);
        if (onlyUpdates) {
          const reason = `${target} holds nothing to change: ${onlyUpdates}`;
          const entry = entryOf(row, 'delivery.cancelled', { reason, recipient: route.recipient, category: route.category });
          if (!(await store.audit.appendIfOneRowChanged(row.tenant, [entry], store.outbox.markCancelledStatement(row.tenant, row.id, reason, clock.now().toISOString())))) return 'lost';
          return 'cancelled';
        }
      }
    }

    // Never pushed under a lease that ran out (another relay may hold the row now), and never longer
    // than the lease: a push still running when it ends would overlap that relay's push.
    const leaseLeft = leaseUntil - clock.now().getTime();
    if (leaseLeft <= 0) return 'lost';
    let cpr: string;
    try {
      cpr = await vault.decrypt(citizen.cprCipher, { tenant: row.tenant, citizenId: row.citizenId });
    } catch (error) {
      // Copied from another citizen's row: no retry makes it theirs, and nothing goes under another person's number.
      if (error instanceof MisplacedCiphertextError) return dead(row, `the citizen’s stored CPR number cannot be used: ${error.message}`);
      return retry(row, `the citizen’s CPR number could not be read: ${describeError(error)}`);
    }
    let receipt: PushReceipt;
    try {
      const operation = { operation: reverse.mapping.operation, cpr, payload: pushPayload, ...(expectedVersion !== undefined ? { expectedVersion } : {}), ...fieldLevel };
      receipt = await withTimeout(adapter.push(operation, row.id), Math.min(pushTimeoutMs, leaseLeft));
    } catch (error) {
      if (error instanceof AdapterError && error.permanent) return dead(row, `${target} refused it (${error.code}): ${describeError(error)}`);
      const code = error instanceof AdapterError ? ` (${error.code})` : error instanceof PushTimeout ? ' (timeout)' : '';
      return retry(row, `${target}${code}: ${describeError(error)}`, error instanceof AdapterError ? error.retryAfterSeconds : undefined);
    }

    const stored = {
      targetId: receipt.targetId,
      duplicate: receipt.duplicate,
      ...(receipt.version !== undefined ? { version: receipt.version } : {}),
      // Sticky: once the target holds fields of its own, every later update of the element is field-level.
      ...(receipt.fieldLevel ? { fieldLevel: true } : {}),
      // Delivered in part: these fields both sides changed stay theirs until a person settles the conflict.
      ...(receipt.keptTheirs?.length ? { keptTheirs: receipt.keptTheirs } : {}),
      // Compared with their record as held now: the version the plan read was gone (a field both changed since took ours).
      ...(receipt.seenVersionUnavailable ? { seenVersionUnavailable: receipt.seenVersionUnavailable } : {}),
      mapping: `${reverse.mapping.id}@${reverse.mapping.version}`,
    };
    // Recorded now, with its audit entry, and only if no one recorded the row before us (a relay that
    // took it over when our lease ran out): the citizen's log shows each delivery once. A crash before
    // this only means the row is pushed again under the same key, which the target answers as a duplicate.
    const now = clock.now().toISOString();
    // What the target's records will read back as, and which of our elements each holds: the next
    // pull maps them onto ours (R17, R18). Written only with the delivered mark that wins.
    const held = store.heldElements.recordStatement(row.tenant, row.citizenId, target, row.id, reverse.heldAs?.(outbound, receipt) ?? [], now);
    const recorded = await record({
      row,
      statements: store.outbox.markDeliveredGuardedStatements(row.tenant, row.id, stored, now),
      alongWith: held ? [held] : [],
      // The citizen's data-flow log (R13) reads these fields: see src/views/data-flows.ts.
      entry: entryOf(row, 'delivery.delivered', {
        recipient: route.recipient,
        categories: [route.category],
        basis: flow.basis,
        consentRefs: flow.basis === 'consent' ? flow.grantIds : [flow.recordId],
        ...(flow.basis === 'legal-basis' ? { legalBasis: flow.legalBasis } : {}),
        targetId: receipt.targetId,
        duplicate: receipt.duplicate,
        ...(receipt.keptTheirs?.length ? { keptTheirs: receipt.keptTheirs } : {}),
      }),
    });
    if (recorded && receipt.seenVersionUnavailable)
      logger.warn('their record’s version the plan read is no longer served: compared with it as held now, so a field both sides changed since took ours', { outboxId: row.id, target });
    if (recorded && receipt.keptTheirs?.length) logger.info('delivered in part: fields both sides changed were left as the target holds them', { outboxId: row.id, target, fields: receipt.keptTheirs.length });
    return recorded ? 'delivered' : 'lost';
  }

  /**
   * Claims the given due rows wave by wave (one write per `concurrency` rows) and delivers the ones
   * this caller won, each wave's pushes right after its claim.
   */
  async function claimAndDeliver(tenant: string, due: OutboxRow[], result: RelayResult & { lost: number }) {
    if (due.length === 0) return;
    const citizenIds = [...new Set(due.map((r) => r.citizenId))];
    const citizens = [];
    for (let i = 0; i < citizenIds.length; i += 80) citizens.push(...(await store.citizens.getMany(tenant, citizenIds.slice(i, i + 80))));
    const citizenById = new Map(citizens.map((c) => [c.id, c]));
    const record = recorder(tenant);
    const wave = Math.max(1, options.concurrency ?? 16);
    for (let i = 0; i < due.length; i += wave) {
      const ids = due.slice(i, i + wave).map((r) => r.id);
      const now = clock.now().getTime();
      const leaseUntil = now + leaseMs;
      const claimed = await store.outbox.claimMany(tenant, ids, iso(leaseUntil), iso(now));
      result.lost += ids.length - claimed.length;
      await Promise.all(
        claimed.map(async (row) => {
          let outcome: DeliveryOutcome;
          try {
            outcome = await deliver(row, citizenById.get(row.citizenId), leaseUntil, record);
          } catch (error) {
            // Our own bookkeeping failed (e.g. the database): the lease runs out and the row comes due again.
            logger.error('delivery bookkeeping failed', { outboxId: row.id, error: describeError(error) });
            outcome = 'lost';
          }
          if (outcome === 'lost') result.lost++;
          else result[outcome]++;
        }),
      );
    }
  }

  return {
    async runOnce(): Promise<RelayResult> {
      const result = { delivered: 0, retried: 0, dead: 0, cancelled: 0, lost: 0 };
      const now = clock.now().toISOString();
      const tenants = options.tenant ? [options.tenant] : await store.outbox.tenantsWithDue(now);
      for (const tenant of tenants) await claimAndDeliver(tenant, await store.outbox.due(tenant, now, options.limit ?? 100), result);
      const { lost: _lost, ...counts } = result;
      return counts;
    },
    /** Delivers one row now if it is due and heads its queue; answers what happened. */
    async deliverOne(tenant: string, id: string): Promise<DeliveryOutcome | 'not-due'> {
      const due = await store.outbox.due(tenant, clock.now().toISOString(), 1, id);
      if (due.length === 0) return 'not-due';
      const result = { delivered: 0, retried: 0, dead: 0, cancelled: 0, lost: 0 };
      await claimAndDeliver(tenant, due, result);
      return (Object.keys(result) as (keyof typeof result)[]).find((k) => result[k] > 0) ?? 'lost';
    },
  };
}

function elementProvenance(plan: Plan, elementId: string): Provenance[] {
  for (const list of elementLists) {
    const element = (plan[list] as { id: string; provenance: Provenance[] }[]).find((e) => e.id === elementId);
    if (element) return element.provenance;
  }
  return [];
}

/**
 * One relay run over every tenant with due rows: what the bree job (Node) and the Cron Trigger or
 * Queue consumer (Workers) call. Safe to run concurrently: rows are claimed with a lease.
 */
export function runRelayOnce(deps: AppDeps, options: RelayOptions = {}): Promise<RelayResult> {
  return createRelay(deps, options).runOnce();
}
