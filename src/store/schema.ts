/**
 * The drizzle schema (SQLite dialect; libSQL on Node, D1 on Workers). Every table that holds
 * tenant data has a `tenant` column (kommunekode) and every repository filters on it.
 * Plans are stored as validated JSON documents: the plan is read and written whole, and
 * reads are the hot path (B5). CPR numbers exist only as ciphertext plus a keyed hash.
 */
import { sql, type SQL } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';

export const citizens = sqliteTable(
  'citizens',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    cprHash: text('cpr_hash').notNull(),
    cprCipher: text('cpr_cipher').notNull(),
    birthDate: text('birth_date').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('citizens_tenant_cpr_hash').on(t.tenant, t.cprHash),
    // Only ciphertexts of the earlier formats (v1, v2) are in it: counting what is left of them (the
    // overview, /metrics) costs nothing once the re-key has moved them all.
    index('citizens_legacy_cipher').on(t.tenant).where(sql`substr(${t.cprCipher}, 1, 3) in ('v1:', 'v2:')`),
  ],
);

export const plans = sqliteTable(
  'plans',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    status: text('status').notNull(),
    document: text('document').notNull(),
    version: integer('version').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    /** How many of the plan's conflicts wait for a person (kept with every write): the caseworkers' worklist, found by index. */
    openConflicts: integer('open_conflicts').notNull().default(0),
    /** The earliest due date of the plan's follow-ups not yet done (R7): overdue ones are found by index. */
    nextFollowUp: text('next_follow_up'),
    /** The responsible coordinator's name (R5): the caseload per coordinator without reading documents. */
    coordinatorName: text('coordinator_name'),
    /**
     * A fresh id on every write: how a writer tells its own write from a rival's of the same version
     * (two may land in the same millisecond), and what the marks that depend on a write check.
     */
    writeId: text('write_id'),
  },
  (t) => [
    // With the coordinator: the caseload per coordinator (R5; on every overview and /metrics scrape)
    // reads this index alone, not every plan row past its ~10 KB document.
    index('plans_tenant_status_coordinator').on(t.tenant, t.status, t.coordinatorName),
    index('plans_tenant_open_conflicts').on(t.tenant, t.openConflicts),
    index('plans_tenant_next_follow_up').on(t.tenant, t.nextFollowUp),
  ],
);

/**
 * Holds no row between batches: a write that must only count if it did what it had to inserts here
 * whether it did, and a 0 fails the CHECK, rolling its whole batch back (src/store/write-guard.ts).
 */
export const writeGuard = sqliteTable('write_guard', { won: integer('won').notNull() }, (t) => [check('write_lost', sql`${t.won} = 1`)]);

/** Which citizens a plan is about (one, or a family's members): the enrolment index (R12). */
export const planMembers = sqliteTable(
  'plan_members',
  {
    tenant: text('tenant').notNull(),
    planId: text('plan_id').notNull(),
    citizenId: text('citizen_id').notNull(),
    active: integer('active', { mode: 'boolean' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.planId, t.citizenId] }), index('plan_members_tenant_citizen').on(t.tenant, t.citizenId)],
);

/** Consent grants and non-consent legal-basis records (R9–R11), as validated JSON documents. */
export const consents = sqliteTable(
  'consents',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    citizenId: text('citizen_id').notNull(),
    kind: text('kind', { enum: ['grant', 'legal-basis'] }).notNull(),
    document: text('document').notNull(),
    /** A grant's revocation, or the end the municipality put to a legal-basis record: no longer in force. */
    revokedAt: text('revoked_at'),
    /** The document's last valid day (a grant or legal basis that is time-limited), for finding those that lapsed. */
    validTo: text('valid_to'),
    /** When the data that flowed only on this grant was removed after it lapsed (R9, R10): it is not looked at again. */
    lapseHandledAt: text('lapse_handled_at'),
    /** A grant's first valid day. */
    validFrom: text('valid_from'),
    /**
     * When the grant's start was acted on: at once for a grant valid when recorded; for one dated to
     * start later, on its first day (its citizen is read again in full, so the data can flow).
     */
    startHandledAt: text('start_handled_at'),
    /** A legal-basis record's: when the citizen was told (R11); null while they still must be. */
    informedAt: text('informed_at'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    index('consents_tenant_citizen').on(t.tenant, t.citizenId),
    index('consents_tenant_valid_to').on(t.tenant, t.validTo),
    index('consents_tenant_valid_from').on(t.tenant, t.validFrom),
    index('consents_tenant_kind_informed').on(t.tenant, t.kind, t.informedAt, t.createdAt),
  ],
);

/**
 * An audit row of a read from outside the plan (`departmentInPlan: false`). The detail is read only when
 * it is JSON: a row edited to other text (tampering, which verify names) must neither fail the write
 * nor the index's creation.
 */
export const readFromOutside = (detail: AnySQLiteColumn | SQL) => sql`(case when json_valid(${detail}) then json_extract(${detail}, '$.departmentInPlan') end) = 0`;

/** Append-only, hash-chained per tenant. Holds who/what/when and references — never content or CPR. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    tenant: text('tenant').notNull(),
    seq: integer('seq').notNull(),
    at: text('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    citizenId: text('citizen_id'),
    detail: text('detail').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant, t.seq] }),
    index('audit_tenant_citizen').on(t.tenant, t.citizenId),
    // Reads by a caseworker whose department takes no part in the plan (decision 0032), for the DPO's follow-up: few, so the index holds only them.
    index('audit_reads_from_outside').on(t.tenant, t.at).where(readFromOutside(t.detail)),
  ],
);

/**
 * Where a tenant's audit chain begins once retention has pruned its oldest rows
 * (RETENTION_AUDIT_DAYS): the last pruned row's seq and hash, which the first row kept links to.
 * It only moves forward, in the batch that deletes the rows up to it and appends the `audit.pruned`
 * row that records it; the database refuses deleting a log row above it (migration 0032).
 */
export const auditBases = sqliteTable('audit_bases', {
  tenant: text('tenant').primaryKey(),
  seq: integer('seq').notNull(),
  hash: text('hash').notNull(),
});

/**
 * The head of each tenant's audit chain (its last row's seq and hash), written in the same batch as
 * the rows (once per commit, not per row): rows deleted at the end, or a tenant's whole chain, are
 * then missing from something that says they were there. Migration 0019 refuses deleting a head or
 * moving it back, and UPDATE and DELETE on `audit_log`.
 */
export const auditHeads = sqliteTable('audit_heads', {
  tenant: text('tenant').primaryKey(),
  seq: integer('seq').notNull(),
  hash: text('hash').notNull(),
});

export const registrations = sqliteTable(
  'registrations',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    planId: text('plan_id').notNull(),
    kind: text('kind').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    bodyHash: text('body_hash').notNull(),
    document: text('document').notNull(),
    response: text('response').notNull(),
    actor: text('actor').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('registrations_tenant_key').on(t.tenant, t.idempotencyKey), index('registrations_tenant_plan').on(t.tenant, t.planId)],
);

/** One row per registration × target system, written in the same batch as the registration. */
export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    registrationId: text('registration_id').notNull(),
    citizenId: text('citizen_id').notNull(),
    target: text('target').notNull(),
    operation: text('operation').notNull(),
    payload: text('payload'),
    status: text('status', { enum: ['pending', 'retrying', 'delivered', 'dead', 'cancelled'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: text('next_attempt_at').notNull(),
    lastError: text('last_error'),
    receipt: text('receipt'),
    consentRef: text('consent_ref'),
    /** Monotonic per tenant: deliveries for one citizen go in this order. */
    sequence: integer('sequence').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    index('outbox_due').on(t.status, t.nextAttemptAt),
    index('outbox_tenant_registration').on(t.tenant, t.registrationId),
    index('outbox_tenant_citizen').on(t.tenant, t.citizenId, t.sequence),
  ],
);

/**
 * Which of our elements a target's record holds, as its records read back (`education:education-goal:<plan
 * id>`, `dfdg:follow-up:<guid>`): written with each delivery that put an element there, so the next
 * pull maps the record onto that element instead of adding a second one (R17, R18). The latest
 * delivery wins: a slot the target holds once (Ungedatabasen's next follow-up) holds what was sent last.
 */
export const heldElements = sqliteTable(
  'held_elements',
  {
    tenant: text('tenant').notNull(),
    /** Keyed by citizen first, as the merged-record marks: a sync chunk reads its citizens' rows in one query. */
    citizenId: text('citizen_id').notNull(),
    target: text('target').notNull(),
    /** The element id the target's record reads back as (what its pull mapping names it). */
    targetElementId: text('target_element_id').notNull(),
    /** Our element it holds. */
    elementId: text('element_id').notNull(),
    /** The delivery (outbox row) that put it there. */
    outboxId: text('outbox_id').notNull(),
    recordedAt: text('recorded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.citizenId, t.target, t.targetElementId] })],
);

/**
 * A source's own consent to share that permits until a last day (the region's Consent, migration 0025):
 * per citizen and source, the deciding record and its last day, written by the sync as it reads it, so
 * the nightly job ends it after that day though nothing at the source changes (decision 0004, "Later").
 */
export const regionalConsentEnds = sqliteTable(
  'regional_consent_ends',
  {
    tenant: text('tenant').notNull(),
    citizenId: text('citizen_id').notNull(),
    source: text('source').notNull(),
    recordId: text('record_id').notNull(),
    recordVersion: text('record_version').notNull(),
    /** The last day it permits (Danish calendar day, YYYY-MM-DD). */
    lastDay: text('last_day').notNull(),
    recordedAt: text('recorded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.citizenId, t.source] }), index('regional_consent_ends_tenant_last_day').on(t.tenant, t.lastDay)],
);

/**
 * A source's own say that does not permit sharing with the municipality (the region's Consent refused,
 * withdrawn, run out, about other recipients only, not started yet, or one we cannot read), per citizen
 * and source, as the sync last read it (migration 0033). The sync gate acts on the say as it reads it;
 * this row lets what runs between reads — the subscription fan-out and sending — weigh it too
 * (decision 0014, session 24). No row: the source permits, or says nothing.
 */
export const regionalRefusals = sqliteTable(
  'regional_refusals',
  {
    tenant: text('tenant').notNull(),
    citizenId: text('citizen_id').notNull(),
    source: text('source').notNull(),
    /** The deciding record and its version; null for one we could not read that the quarantine could not name. */
    recordId: text('record_id'),
    recordVersion: text('record_version'),
    reason: text('reason').notNull(),
    /** A permit that has not started yet: its first day (YYYY-MM-DD), from which the refusal no longer holds (the nightly job then lets the data flow). */
    permitsFrom: text('permits_from'),
    recordedAt: text('recorded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.citizenId, t.source] }), index('regional_refusals_tenant_permits_from').on(t.tenant, t.permitsFrom)],
);

export const syncCursors = sqliteTable(
  'sync_cursors',
  {
    tenant: text('tenant').notNull(),
    adapter: text('adapter').notNull(),
    cursor: text('cursor'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.adapter] })],
);

export const syncRuns = sqliteTable(
  'sync_runs',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    adapter: text('adapter').notNull(),
    trigger: text('trigger').notNull(),
    /** `interrupted`: its process ended before it did (a crash, a restart, a time limit); ended by another's check. */
    status: text('status', { enum: ['running', 'succeeded', 'failed', 'interrupted'] }).notNull(),
    startedAt: text('started_at').notNull(),
    endedAt: text('ended_at'),
    stats: text('stats').notNull(),
    error: text('error'),
    /** Who runs it (`nodeRunOwner`: host, pid, process instance, thread; `workers`): what tells a run cut off from one under way. */
    owner: text('owner'),
  },
  (t) => [
    index('sync_runs_tenant_started').on(t.tenant, t.startedAt),
    // Each adapter's newest run (the overview, /metrics, retention's keep-the-newest) is a walk back
    // from its end, not a scan of every run kept (~100,000 at 90 days of five-minute rounds).
    index('sync_runs_tenant_adapter_started').on(t.tenant, t.adapter, t.startedAt),
    // Counting runs by adapter and outcome (enplan_sync_runs_total) reads this index alone.
    index('sync_runs_tenant_adapter_status').on(t.tenant, t.adapter, t.status),
  ],
);

/**
 * Finished sync runs retention pruned, counted per adapter and outcome: `enplan_sync_runs_total` adds
 * them to the runs still kept, so the counter never goes down when old run records go (R16).
 */
export const syncRunTallies = sqliteTable(
  'sync_run_tallies',
  {
    tenant: text('tenant').notNull(),
    adapter: text('adapter').notNull(),
    status: text('status').notNull(),
    n: integer('n').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.adapter, t.status] })],
);

/**
 * Each municipality's part of a retention run (R16): when it ran, what it deleted (counts only, no
 * content), which steps left work for the next night, and why it failed. Retention runs in a job of
 * its own, so this is how the service tells IT staff and the DPO that deletion happens at all.
 */
export const retentionRuns = sqliteTable(
  'retention_runs',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    /** `interrupted`: still `running` when the next run started (a crash, a Cron Trigger's time limit). */
    status: text('status', { enum: ['running', 'succeeded', 'failed', 'interrupted'] }).notNull(),
    startedAt: text('started_at').notNull(),
    endedAt: text('ended_at'),
    /** What each step deleted or changed, by name (JSON object of counts). */
    summary: text('summary').notNull(),
    /** The steps that stopped at their nightly cap with work left (JSON array of step names). */
    backlog: text('backlog').notNull(),
    error: text('error'),
  },
  (t) => [index('retention_runs_tenant_started').on(t.tenant, t.startedAt)],
);

/** Records that failed their contract or mapping: kept with a readable reason for IT staff. */
export const quarantine = sqliteTable(
  'quarantine',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    adapter: text('adapter').notNull(),
    recordType: text('record_type').notNull(),
    recordId: text('record_id'),
    mappingId: text('mapping_id'),
    reason: text('reason').notNull(),
    raw: text('raw'),
    /** When retention removed `raw` (R16): what IT staff asking for the payload are told. */
    rawPrunedAt: text('raw_pruned_at'),
    runId: text('run_id'),
    /** The citizen the record is about, where known (not for a bad change notice): what a retry reads again. */
    citizenId: text('citizen_id'),
    createdAt: text('created_at').notNull(),
    resolvedAt: text('resolved_at'),
    /** How it was resolved: by IT staff, dismissed (nothing to do) or retried (read again on the next run); by the sync, superseded (a newer version of the record merged). */
    resolution: text('resolution', { enum: ['dismissed', 'retried', 'superseded'] }),
    resolvedBy: text('resolved_by'),
    resolutionNote: text('resolution_note'),
  },
  (t) => [
    index('quarantine_tenant_created').on(t.tenant, t.createdAt),
    // A merge looks up the open entries of the records it merged, to close them as superseded.
    index('quarantine_open_record').on(t.tenant, t.adapter, t.recordId).where(sql`${t.resolvedAt} is null`),
  ],
);

/** Source record versions already merged (or merged in part: `complete`): makes the merge idempotent across crashes (F1). */
export const appliedRecords = sqliteTable(
  'applied_records',
  {
    tenant: text('tenant').notNull(),
    /** The citizen whose pull read the record: marks are kept and looked up per citizen. */
    citizenId: text('citizen_id').notNull(),
    source: text('source').notNull(),
    recordId: text('record_id').notNull(),
    recordVersion: text('record_version').notNull(),
    planId: text('plan_id').notNull(),
    appliedAt: text('applied_at').notNull(),
    /**
     * 0: merged in part (consent refused some of it, or references of it were left out). The mark
     * tells whose record it is, so a deletion at the source finds it, but not that it is merged: every
     * read merges it again (migration 0027).
     */
    complete: integer('complete').notNull().default(1),
  },
  // Keyed by citizen first: a sync chunk's marks land in one place per citizen, not one random place
  // per record id (at 500,000 marks that made each chunk's insert rewrite ~1,000 scattered pages).
  (t) => [primaryKey({ columns: [t.tenant, t.citizenId, t.source, t.recordId, t.recordVersion] })],
);

/** Which enrolled citizens have had their first full pull from an adapter; later runs follow the change feed. */
export const pulledCitizens = sqliteTable(
  'pulled_citizens',
  {
    tenant: text('tenant').notNull(),
    adapter: text('adapter').notNull(),
    citizenId: text('citizen_id').notNull(),
    pulledAt: text('pulled_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.adapter, t.citizenId] })],
);

/** An explicit link that lets a second municipality see named parts of a plan (R8). */
export const planLinks = sqliteTable(
  'plan_links',
  {
    planId: text('plan_id').notNull(),
    ownerTenant: text('owner_tenant').notNull(),
    linkedTenant: text('linked_tenant').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.linkedTenant, t.planId] })],
);

/**
 * A counter per tenant that moves whenever an enrolled citizen may have become never-pulled: a
 * member row added, a plan's status changed, a first-pull mark deleted. Moved only by the SQL
 * triggers of migration 0004, so no code path that enrols can forget it.
 */
export const enrolmentEpochs = sqliteTable('enrolment_epochs', {
  tenant: text('tenant').primaryKey(),
  epoch: integer('epoch').notNull(),
});

/**
 * The enrolment epoch at which an adapter's catch-up last left no enrolled citizen unpulled. While
 * the tenant's epoch still equals it, the catch-up has nothing to find and is skipped: a run's cost
 * then grows with the changes, not with the enrolled population.
 */
export const caughtUp = sqliteTable(
  'caught_up',
  {
    tenant: text('tenant').notNull(),
    adapter: text('adapter').notNull(),
    epoch: integer('epoch').notNull(),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.adapter] })],
);

/**
 * Where an adapter's catch-up, cut short by the run's bound, goes on next run (the first citizen id
 * not yet looked at; '' for the start): citizens whose pull keeps failing come first in id order, and
 * a catch-up that always started at the first id would spend every bounded run on them.
 */
export const catchUpPositions = sqliteTable(
  'catch_up_positions',
  {
    tenant: text('tenant').notNull(),
    adapter: text('adapter').notNull(),
    resumeFrom: text('resume_from').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.adapter] })],
);

/**
 * Inbound webhooks (Standard Webhooks, S2): a sector system's notice that it has changes, stored
 * before we answer 2xx so none is lost, keyed by the sender's webhook id so a notice delivered
 * again is recognised. Processing pulls the adapter's changes for the tenant; `claimedUntil` is
 * the lease of the process doing it (a crash lets the lease run out and the notice be taken again).
 */
export const inboundWebhooks = sqliteTable(
  'inbound_webhooks',
  {
    source: text('source').notNull(),
    webhookId: text('webhook_id').notNull(),
    tenant: text('tenant').notNull(),
    eventType: text('event_type').notNull(),
    /** The body as received (checked to hold no CPR number); dropped by retention once processed. */
    body: text('body'),
    receivedAt: text('received_at').notNull(),
    /** `dead`: its runs failed too many times; kept (body too) for IT staff to process again, until retention. */
    status: text('status', { enum: ['pending', 'processed', 'ignored', 'dead'] }).notNull(),
    /** While pending: taken by a processor until then (a lease), or, after a failed run, not tried again before it. */
    claimedUntil: text('claimed_until'),
    attempts: integer('attempts').notNull().default(0),
    runId: text('run_id'),
    processedAt: text('processed_at'),
    lastError: text('last_error'),
  },
    // Waiting notices are found by status first: the table grows with every notice, the waiting ones do not.
  // Deduplicated per municipality: vendors of one source in different municipalities choose their ids apart.
  (t) => [primaryKey({ columns: [t.tenant, t.source, t.webhookId] }), index('inbound_webhooks_waiting').on(t.status, t.tenant, t.source, t.receivedAt), index('inbound_webhooks_tenant_received').on(t.tenant, t.receivedAt)],
);

/**
 * Outbound subscriptions (architecture "Events out", S6): a vendor's address that receives thin,
 * signed events. The secret is sealed at rest (it signs every event; shown once, at creation).
 */
export const subscriptions = sqliteTable(
  'subscriptions',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    url: text('url').notNull(),
    secretSealed: text('secret_sealed').notNull(),
    /** After a rotation, the secret before it: events are signed with both until `previousSecretUntil`. */
    previousSecretSealed: text('previous_secret_sealed'),
    previousSecretUntil: text('previous_secret_until'),
    /** JSON array of event types. */
    events: text('events').notNull(),
    description: text('description'),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull(),
    disabledAt: text('disabled_at'),
    disabledReason: text('disabled_reason'),
    /** The sector system the subscription serves: plan events only of plans whose consent lets data flow with it (migration 0026; null: made before, gets no events). */
    system: text('system'),
    /**
     * Whether `plans_told` records the plans it was told of (migration 0034: every one made since). One made
     * before is told `plan.unshared` and `plan.purged` of any plan whose event came after it was made.
     */
    tellsTracked: integer('tells_tracked', { mode: 'boolean' }).notNull().default(true),
  },
  (t) => [index('subscriptions_tenant').on(t.tenant, t.disabledAt)],
);

/**
 * The plans each subscription was told of: a row is written when a consent-gated event of the plan
 * (created, changed, shared) is fanned out to it. `plan.unshared` and `plan.purged` — the events that
 * tell of a duty towards a plan — go only to subscriptions of a receiver (token subject and system) with
 * such a row: a system never told of a plan learns nothing of it, not even its id. Ids only; deleted once
 * the plan is gone and its purge told, or the receiver's last subscription has ended (retention).
 */
export const plansTold = sqliteTable(
  'plans_told',
  {
    tenant: text('tenant').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    planId: text('plan_id').notNull(),
    /** The event that first told it. */
    firstEventSeq: integer('first_event_seq').notNull(),
  },
  (t) => [primaryKey({ columns: [t.subscriptionId, t.planId] }), index('plans_told_plan').on(t.tenant, t.planId)],
);

/**
 * Events waiting to be fanned out to subscriptions: written by SQL triggers (migration 0010) on plan
 * and delivery writes, only while the tenant has an active subscription — so no code path can change
 * a plan without its event, and a tenant without subscriptions pays one index probe per write.
 */
export const events = sqliteTable('events', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  tenant: text('tenant').notNull(),
  type: text('type').notNull(),
  /** JSON: the event's ids (never content, never a CPR number). */
  data: text('data').notNull(),
  at: text('at').notNull(),
});

/** One event for one subscription: delivered with retries, signed, under the same webhook-id each try. */
export const subscriptionDeliveries = sqliteTable(
  'subscription_deliveries',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    eventSeq: integer('event_seq').notNull(),
    type: text('type').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'dead', 'cancelled'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: text('next_attempt_at').notNull(),
    lastError: text('last_error'),
    lastStatusCode: integer('last_status_code'),
    createdAt: text('created_at').notNull(),
    deliveredAt: text('delivered_at'),
  },
  (t) => [
    uniqueIndex('subscription_deliveries_once').on(t.subscriptionId, t.eventSeq),
    index('subscription_deliveries_due').on(t.status, t.nextAttemptAt),
    index('subscription_deliveries_of').on(t.tenant, t.subscriptionId, t.createdAt),
  ],
);

/**
 * The consent texts a municipality shows citizens, by version and language (R15): what a citizen
 * agreed to, word for word, so it can be shown again to them, to a caseworker or to the DPO. A
 * version in a language is never changed once registered; a new wording is a new version.
 */
export const consentTexts = sqliteTable(
  'consent_texts',
  {
    tenant: text('tenant').notNull(),
    version: text('version').notNull(),
    language: text('language').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdAt: text('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.version, t.language] })],
);

/**
 * A citizen's answer to "how satisfied are you with your plan" (1–5), one per plan, member and
 * half-year (a later answer in the same half-year replaces the earlier): counted only in the
 * half-yearly evaluation figures, suppressed when small (R22). Deleted with the plan.
 */
export const satisfactionAnswers = sqliteTable(
  'satisfaction_answers',
  {
    tenant: text('tenant').notNull(),
    planId: text('plan_id').notNull(),
    citizenId: text('citizen_id').notNull(),
    period: text('period').notNull(),
    score: integer('score').notNull(),
    answeredAt: text('answered_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.planId, t.citizenId, t.period] }), index('satisfaction_answers_period').on(t.tenant, t.period)],
);
