/** The IT staff dashboard (hono/jsx): one server-rendered page, no scripts, no external assets. */
import type { FC } from 'hono/jsx';
import { RECOMMENDED_CASELOAD } from '../model';
import { copenhagenTime } from '../views/danish';
import type { ConnectionCheck } from './connections';
import type { RouteSummary } from './http-metrics';
import type { MonitoringOverview } from './overview';

const style = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{background:#12355b;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
main{padding:1rem 1.5rem;display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr))}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:.8rem 1rem;overflow-x:auto}
section.wide{grid-column:1/-1}form{margin:0}
h1{font-size:1.15rem;margin:0}h2{font-size:1rem;margin:.1rem 0 .6rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #eef0f3;vertical-align:top}
.ok{color:#1b7f3b}.bad{color:#b3261e}.muted{color:#6b7280}.num{text-align:right;font-variant-numeric:tabular-nums}
button{font:inherit;padding:.15rem .6rem;border:1px solid #12355b;background:#fff;color:#12355b;border-radius:4px;cursor:pointer}`;

const sum = (values: Record<string, number> | undefined) => Object.values(values ?? {}).reduce((a, b) => a + b, 0);

/** "2026-11-23 20:15" in Danish time: the staff reading this work in it, and the service may run in UTC. */
/** Routes shown in the requests table, busiest first; the rest are counted below it. */
const REQUEST_ROWS = 12;

/** A mapping's ignored fields: the first few, and how many more (all of them in the cell's title). */
function ignoredFieldsText(fields: readonly string[]): string {
  const shown = fields.slice(0, 4).join(', ');
  return fields.length > 4 ? `${shown} and ${fields.length - 4} more` : shown;
}

/** Ends the dashboard session (the cookie); on every page a signed-in reader can reach. */
export const SignOut: FC<{ light?: boolean }> = ({ light }) => (
  <form method="post" action="/dashboard/logout" class="sign-out" style="display:inline">
    <button type="submit" style={light ? 'color:#fff;border-color:#fff;background:transparent' : undefined}>
      Sign out
    </button>
  </form>
);

export function localTime(iso: string): string {
  return copenhagenTime(new Date(iso)).toISOString().slice(0, 16).replace('T', ' ');
}

/** "0.8 s", "2 min 5 s"; an unfinished run has no duration yet. */
export function duration(startedAt: string, endedAt: string | null): string {
  if (!endedAt) return 'running';
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** What is worth knowing about a run beyond its counts. */
function runNotes(stats: Record<string, unknown>): string[] {
  const notes: string[] = [];
  if (stats.stoppedAtLimit === true) notes.push('stopped at the run limit; the next run goes on');
  if (typeof stats.pullErrors === 'number' && stats.pullErrors > 0) notes.push(`${stats.pullErrors} citizen(s) could not be read; tried again next run`);
  if (typeof stats.batchFallbacks === 'number' && stats.batchFallbacks > 0) notes.push(`${stats.batchFallbacks} batch read(s) failed and were read one by one`);
  if (typeof stats.conflicts === 'number' && stats.conflicts > 0) notes.push(`${stats.conflicts} conflict(s) flagged for a caseworker`);
  return notes;
}

export interface DeadLetter {
  id: string;
  target: string;
  operation: string;
  lastError: string | null;
  attempts: number;
  updatedAt: string;
}

/** "≤ 25 ms", "≤ 1 s", "> 5 s". */
function latencyBound(seconds: number | null): string {
  if (seconds === null) return '> 5 s';
  return seconds < 1 ? `≤ ${Math.round(seconds * 1000)} ms` : `≤ ${seconds} s`;
}

export const Dashboard: FC<{ overview: MonitoringOverview; deadLetters: DeadLetter[]; quarantine: { id: string; adapter: string; recordType: string; reason: string; createdAt: string }[]; requests: RouteSummary[]; notice?: string; connections?: { check: ConnectionCheck; checkedAt: string }[] }> = ({
  overview: o,
  deadLetters,
  quarantine,
  requests,
  notice,
  connections = [],
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Én plan — integration dashboard</title>
      <style>{style}</style>
    </head>
    <body>
      <header>
        <h1>Én plan integration — municipality {o.tenant}</h1>
        <a id="connections" href="/dashboard/connections" style="color:#fff;margin-left:auto;margin-right:1rem" title="Checks every sector system now: opening it probes them">Check connections</a>
        <a id="processing-record" href="/dashboard/processing-record" style="color:#fff;margin-right:1rem">Record of processing</a>
        <SignOut light />
      </header>
      {notice ? <p style="margin:1rem 1.5rem 0" id="notice">{notice}</p> : null}
      <main>
        <section id="adapters" class="wide">
          <h2>Sector systems</h2>
          <table>
            <tr><th>Adapter</th><th>Format</th><th>Last run</th><th class="num">Read</th><th class="num">Merged</th><th class="num">Quarantined</th><th class="num" title="Data categories the consent gate refused, counted per record and category: a record can be merged in part and refused in part, so this is not a number of records">Refused categories</th><th class="num" title="References to elements the plan does not hold (e.g. goals refused by consent), left out of the merged element">Unresolved refs</th><th title="SYNC_CRON, or the adapter's own SYNC_CRON_<ADAPTER>; overdue when two scheduled starts have passed since its last success">Schedule</th><th></th></tr>
            {o.adapters.map((a) => {
              // The figures are those of the newest run that ended; one under way has none yet.
              const run = o.latestFinishedRuns.find((r) => r.adapter === a.id);
              const underWay = o.latestRuns.find((r) => r.adapter === a.id && r.status === 'running');
              const s = (run?.stats ?? {}) as Record<string, number>;
              const schedule = o.syncSchedules.find((entry) => entry.adapter === a.id);
              return (
                <tr data-adapter={a.id}>
                  <td>{a.description?.name ?? a.id}</td>
                  <td class="muted">{a.configured ? a.description?.format : 'not configured'}</td>
                  <td class={run?.status === 'failed' || run?.status === 'interrupted' ? 'bad' : run ? 'ok' : 'muted'} title={run?.error ?? undefined}>
                    {run ? `${run.status} ${localTime(run.startedAt)}` : '—'}
                    {underWay ? <span class="muted">{`; running since ${localTime(underWay.startedAt)}`}</span> : null}
                    {run && run.status !== 'succeeded' ? <span class="muted">{o.lastSucceededAt[a.id] ? `; last succeeded ${localTime(o.lastSucceededAt[a.id]!)}` : '; never succeeded'}</span> : null}
                  </td>
                  <td class="num">{s.recordsRead ?? 0}</td>
                  <td class="num">{s.recordsMerged ?? 0}</td>
                  <td class="num">{s.quarantined ?? 0}</td>
                  <td class="num">{s.refusedByConsent ?? 0}</td>
                  <td class="num">{s.referencesUnresolved ?? 0}</td>
                  <td class={schedule?.overdue ? 'bad' : 'muted'} data-schedule={schedule?.cron}>
                    {schedule ? <code>{schedule.cron}</code> : '—'}
                    {schedule?.overdue ? <span data-overdue="">{o.lastSucceededAt[a.id] ? ` overdue: two scheduled runs passed with no success since ${localTime(o.lastSucceededAt[a.id]!)}` : ' overdue: it has run, never with success'}</span> : null}
                    {schedule?.nextStartAt ? <span class="muted">{`; next ${localTime(schedule.nextStartAt)}`}</span> : null}
                  </td>
                  <td>
                    {a.configured ? (
                      <form method="post" action={`/dashboard/sync/${a.id}`}>
                        <button type="submit">Sync now</button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </table>
          {connections.length > 0 ? <ConnectionsLast connections={connections} /> : null}
          <p id="inbound-waiting" class={o.inboundNoticesWaiting > 0 ? '' : 'muted'} title="Signed change notices a sector system sent (GET /v1/webhooks/inbound); a sync run reads the changes soon after">
            Change notices waiting for a sync run: {o.inboundNoticesWaiting}
          </p>
          {o.regionalRefusals.health ? (
            <p id="regional-refusals" title="The region's own Consent, as the last health sync read it: their health data is refused though they consented with us, and the health system's subscriptions do not hear of their plans (docs/decisions/0014)">
              The region does not share health data with the municipality for {o.regionalRefusals.health} citizen{o.regionalRefusals.health === 1 ? '' : 's'}
            </p>
          ) : null}
          {o.readsFromOutsideLastDay > 0 ? (
            <p id="reads-from-outside" title="Caseworkers opened plans their department takes no part in (one per member told). Who and which plans: the DPO's GET /v1/data-subject/reads-from-outside (docs/decisions/0032). Many at once: an account misused, or the identity provider sending the wrong department">
              Reads of plans by departments taking no part in them, last 24 hours: {o.readsFromOutsideLastDay}
            </p>
          ) : null}
          {o.inboundNoticesDead > 0 ? (
            <p id="inbound-dead" title="Their sync runs failed at every try: once the source is fixed, POST /v1/webhooks/inbound/{source}/{id}/retry (GET /v1/webhooks/inbound lists them)">
              Change notices given up on: {o.inboundNoticesDead}
            </p>
          ) : null}
          {o.cprKeyRotation ? (
            <p id="cpr-key-rotation" class={o.cprKeyRotation.valuesUnderRetiredKeys > 0 ? '' : 'muted'} title="CPR_KEYS_RETIRED is set: the re-key job moves what the retired keys hold to CPR_KEY (docs/decisions/0022)">
              CPR key rotation: {o.cprKeyRotation.valuesUnderRetiredKeys} values still under a retired key{o.cprKeyRotation.valuesUnderRetiredKeys === 0 ? ' — the retired key can be removed' : ''}
            </p>
          ) : null}
          {o.legacyCiphertexts.count > 0 ? (
            <p id="legacy-ciphertexts" class={o.legacyCiphertexts.policy === 'refuse' ? 'bad' : ''} title="Ciphertexts written before they were bound to their row (v1/v2; docs/decisions/0022)">
              {o.legacyCiphertexts.policy === 'refuse'
                ? `${o.legacyCiphertexts.count} ciphertexts of an earlier format are refused (CPR_LEGACY_CIPHERTEXTS=refuse): their citizens are not synced and their deliveries dead-letter`
                : `${o.legacyCiphertexts.count} ciphertexts of an earlier format: the nightly re-key moves them; at 0, set CPR_LEGACY_CIPHERTEXTS=refuse`}
            </p>
          ) : null}
        </section>
        <section id="runs" class="wide">
          <h2>Recent sync runs <span class="muted" style="font-weight:normal">(times in Danish time)</span></h2>
          {o.recentRuns.length === 0 ? <p class="muted">None yet.</p> : null}
          <table>
            {o.recentRuns.length > 0 ? (
              <tr><th>Started</th><th>Adapter</th><th>Trigger</th><th>Status</th><th class="num">Took</th><th class="num">Citizens</th><th class="num">Read</th><th class="num">Merged</th><th class="num">Quarantined</th><th class="num" title="Data categories the consent gate refused, counted per record and category: a record can be merged in part and refused in part, so this is not a number of records">Refused categories</th><th>Notes</th></tr>
            ) : null}
            {o.recentRuns.map((run) => {
              const s = run.stats as Record<string, unknown>;
              const count = (key: string) => (typeof s[key] === 'number' ? (s[key] as number) : 0);
              const notes = runNotes(s);
              return (
                <tr data-run={run.id}>
                  <td>{localTime(run.startedAt)}</td>
                  <td>{run.adapter}</td>
                  <td class="muted">{run.trigger}</td>
                  <td class={run.status === 'failed' || run.status === 'interrupted' ? 'bad' : run.status === 'succeeded' ? 'ok' : 'muted'} title={run.error ?? undefined}>{run.status}</td>
                  <td class="num">{duration(run.startedAt, run.endedAt)}</td>
                  <td class="num">{count('citizensPulled')}</td>
                  <td class="num">{count('recordsRead')}</td>
                  <td class="num">{count('recordsMerged')}</td>
                  <td class={`num ${count('quarantined') > 0 ? 'bad' : ''}`}>{count('quarantined')}</td>
                  <td class="num">{count('refusedByConsent')}</td>
                  <td class={run.error ? 'bad' : 'muted'}>{[run.error, ...notes].filter(Boolean).join('; ')}</td>
                </tr>
              );
            })}
          </table>
        </section>
        <section id="mappings" class="wide">
          <h2>Mapping health <span class="muted" style="font-weight:normal">(each mapping's newest finished run that read its records)</span></h2>
          <table>
            <tr><th>Mapping</th><th>Version</th><th>Run</th><th class="num">In</th><th class="num">Out</th><th class="num">Failures</th><th class="num">Unknown codes</th><th>Ignored fields</th></tr>
            {o.mappings.map((m) => (
              <tr data-mapping={m.id}>
                <td title={m.description}>{m.id}</td>
                <td>{m.lastRun && m.lastRun.mappingVersion !== m.version ? `${m.version} (figures from ${m.lastRun.mappingVersion})` : m.version}</td>
                <td class="muted">{m.lastRun ? localTime(m.lastRun.startedAt) : '—'}</td>
                <td class="num">{m.lastRun?.recordsIn ?? '—'}</td>
                <td class="num">{m.lastRun?.recordsOut ?? '—'}</td>
                <td class={`num ${sum(m.lastRun?.failuresByRule) > 0 ? 'bad' : ''}`} title={JSON.stringify(m.lastRun?.failuresByRule ?? {})}>{m.lastRun ? sum(m.lastRun.failuresByRule) : '—'}</td>
                <td class="num" title={Object.keys(m.lastRun?.unknownCodes ?? {}).join(', ')}>{m.lastRun ? sum(m.lastRun.unknownCodes) : '—'}</td>
                <td class="muted" title={Object.keys(m.lastRun?.ignoredFields ?? {}).join(', ')}>{ignoredFieldsText(Object.keys(m.lastRun?.ignoredFields ?? {}))}</td>
              </tr>
            ))}
          </table>
        </section>
        <section id="plans">
          <h2>Plans</h2>
          <table>
            {Object.entries(o.plansByStatus).map(([status, n]) => (
              <tr><td>{status}</td><td class="num">{n}</td></tr>
            ))}
            <tr id="open-conflicts" title="Conflicts between two writers wait for a caseworker (GET /v1/conflicts)"><td>with open conflicts</td><td class={`num ${o.plansWithOpenConflicts > 0 ? 'bad' : ''}`}>{o.plansWithOpenConflicts}</td></tr>
            <tr id="overdue-follow-ups" title="Open plans with a follow-up past its due date and not done (R7; GET /v1/follow-ups/overdue)"><td>with overdue follow-ups</td><td class={`num ${o.plansWithOverdueFollowUps > 0 ? 'bad' : ''}`}>{o.plansWithOverdueFollowUps}</td></tr>
            <tr id="caseload" title={`Coordinators carrying more open plans than the ${RECOMMENDED_CASELOAD} recommended (R5; GET /v1/coordinators/caseload)`}><td>coordinators above the recommended caseload ({RECOMMENDED_CASELOAD})</td><td class={`num ${o.coordinatorsAboveRecommendedCaseload > 0 ? 'bad' : ''}`}>{o.coordinatorsAboveRecommendedCaseload}</td></tr>
            <tr id="to-inform" title="Data flows on a legal basis without consent; the citizen must be told (R11; GET /v1/consents/legal-basis/to-inform)"><td>legal-basis records whose citizen is still to be told</td><td class={`num ${o.legalBasesToInform > 0 ? 'bad' : ''}`}>{o.legalBasesToInform}</td></tr>
          </table>
        </section>
        <section id="outbox">
          <h2>Deliveries</h2>
          {Object.keys(o.outboxByStatus).length === 0 ? <p class="muted">No registration has been delivered yet.</p> : null}
          <table>
            {Object.entries(o.outboxByStatus).map(([status, n]) => (
              <tr><td>{status}</td><td class={`num ${status === 'dead' && n > 0 ? 'bad' : ''}`}>{n}</td></tr>
            ))}
          </table>
          {Object.keys(o.outboxOldestWaiting).length > 0 ? (
            <p id="outbox-oldest-waiting" class="muted" title="Registrations accepted but not yet delivered (pending, or retrying after a failure): the oldest per target system">
              Oldest waiting: {Object.entries(o.outboxOldestWaiting).map(([target, at], i) => `${i > 0 ? '; ' : ''}${target} since ${localTime(at)}`).join('')}
            </p>
          ) : null}
          <p id="subscriptions" class="muted" title="Thin, signed events to vendors' addresses (GET /v1/subscriptions/{id}/deliveries)">
            Events to subscribers: {o.subscriptions.activeSubscriptions} active subscription{o.subscriptions.activeSubscriptions === 1 ? '' : 's'}
            {Object.entries(o.subscriptions.deliveriesByStatus).map(([status, n]) => (
              <span class={status === 'dead' && n > 0 ? 'bad' : ''}>; {n} {status}</span>
            ))}
            {o.subscriptions.oldestWaitingAt ? <span>{`; the oldest waiting since ${localTime(o.subscriptions.oldestWaitingAt)}`}</span> : null}
          </p>
          <h2 style="margin-top:.8rem">Dead letters</h2>
          {deadLetters.length === 0 ? <p class="muted">None.</p> : null}
          <table>
            {deadLetters.map((d) => (
              <tr data-dead={d.id}>
                <td>{d.target}</td>
                <td>{d.operation}</td>
                <td class="bad">{d.lastError}</td>
                <td>
                  <form method="post" action={`/dashboard/outbox/${d.id}/retry`}>
                    <button type="submit">Retry</button>
                  </form>
                </td>
              </tr>
            ))}
          </table>
        </section>
        <section id="retention-runs" title="Retention (R16): ended plans, citizens left without a plan, payloads, old run records; nightly (RETENTION_CRON)">
          <h2>Retention</h2>
          <RetentionSummary retention={o.retention} />
        </section>
        <section id="requests" class="wide">
          <h2>API requests since the service started <span class="muted" style="font-weight:normal">(this municipality's; all of them on /metrics)</span></h2>
          {requests.length === 0 ? <p class="muted">None yet.</p> : null}
          <table>
            {requests.length > 0 ? (
              <tr><th>route</th><th class="num">requests</th><th class="num">refused (4xx)</th><th class="num">failed (5xx)</th><th class="num">95 % within</th></tr>
            ) : null}
            {requests.slice(0, REQUEST_ROWS).map((r) => (
              <tr data-route={`${r.method} ${r.route}`}>
                <td>{r.method} {r.route}</td>
                <td class="num">{r.requests}</td>
                <td class="num">{r.clientErrors}</td>
                <td class={`num ${r.serverErrors > 0 ? 'bad' : ''}`}>{r.serverErrors}</td>
                <td class="num">{latencyBound(r.p95AtMostSeconds)}</td>
              </tr>
            ))}
          </table>
          {requests.length > REQUEST_ROWS ? <p id="requests-more" class="muted">{`and ${requests.length - REQUEST_ROWS} more route${requests.length - REQUEST_ROWS === 1 ? '' : 's'}, on /metrics`}</p> : null}
        </section>
        <section id="quarantine">
          <h2>Quarantined records</h2>
          {quarantine.length === 0 ? <p class="muted">None.</p> : null}
          {sum(o.quarantineOpen) > quarantine.length ? (
            <p id="quarantine-open" class="bad">{`${sum(o.quarantineOpen)} open; the newest ${quarantine.length} are listed (all: GET /v1/sync/quarantine)`}</p>
          ) : null}
          <table>
            {quarantine.map((q) => (
              <tr data-quarantine={q.id}>
                <td>{q.adapter}</td>
                <td>{q.recordType}</td>
                <td>{q.reason}</td>
                <td class="muted">{localTime(q.createdAt)}</td>
                <td>
                  <form method="post" action={`/dashboard/quarantine/${q.id}/payload`} style="display:inline">
                    <button type="submit" title="The stored payload, CPR numbers masked; the look is logged and shown to the citizen">Payload</button>
                  </form>{' '}
                  <form method="post" action={`/dashboard/quarantine/${q.id}/retry`} style="display:inline">
                    <button type="submit" title="Read the citizen from this system again on the next sync">Retry</button>
                  </form>{' '}
                  <form method="post" action={`/dashboard/quarantine/${q.id}/dismiss`} style="display:inline">
                    <button type="submit">Dismiss</button>
                  </form>
                </td>
              </tr>
            ))}
          </table>
        </section>
      </main>
    </body>
  </html>
);

/** Readable names of what retention counts (its summary's keys); a key not named here shows as it is. */
const retentionItems: Record<string, string> = {
  plansPurged: 'ended plans deleted',
  plansKeptForDeliveries: 'ended plans kept for deliveries still due',
  plansReopened: 'ended plans kept: offered again as they were to be deleted',
  plansChangedByAge: 'plans whose data a consent no longer carried once a young person turned 16 or 18',
  citizensPurged: 'citizens deleted (no plan left)',
  remnantsOfDeletedCitizensDeleted: 'deleted citizens whose leftover rows went',
  supersededMarksPruned: 'sync marks of replaced versions',
  quarantinePayloadsPruned: 'quarantined payloads',
  deliveryPayloadsPruned: 'delivery payloads',
  syncRunsPruned: 'sync run records',
  resolvedQuarantineDeleted: 'resolved quarantine entries',
  retentionRunsPruned: 'retention run records',
  auditRowsPruned: 'audit rows past RETENTION_AUDIT_DAYS',
  inboundNoticesDeleted: 'change notices',
  subscriptionDeliveriesDeleted: 'subscriber event deliveries',
  plansToldForgotten: "subscribers' records of being told of plans now gone",
  grantsLapsed: 'consent grants ended',
  legalBasesLapsed: 'legal bases ended',
  regionalConsentsLapsed: "regions' permits ended",
  plansChangedByLapse: 'plans changed by an ended consent',
  grantsStarted: 'consent grants started',
  regionalPermitsStarted: "regions' permits started",
  lapseFailures: 'plans an ended consent could not change yet',
  startFailures: 'started grants or permits not handled yet',
};
const backlogNotes: Record<string, string> = {
  'remnants-of-deleted-citizens': "leftover rows of deleted citizens",
  'superseded-marks': 'sync marks of replaced versions',
  'sync-runs': 'old sync run records',
  'resolved-quarantine': 'old resolved quarantine entries',
  'audit-log': 'audit rows past their period',
};

/** The connections as last checked (a page, the API or a /metrics scrape): shown without probing again. */
const ConnectionsLast: FC<{ connections: { check: ConnectionCheck; checkedAt: string }[] }> = ({ connections }) => {
  const failing = connections.filter(({ check }) => !check.ok);
  const newest = connections.map(({ checkedAt }) => checkedAt).sort().at(-1)!;
  return failing.length === 0 ? (
    <p id="connections-last" class="muted" title="The newest finished connection checks; Check connections probes them again">
      Connections as last checked ({localTime(newest)}): all {connections.length} answered.
    </p>
  ) : (
    <p id="connections-last" class="bad" title="The newest finished connection checks; Check connections probes them again">
      {failing.map(({ check, checkedAt }) => `${check.name} did not answer as it should when checked ${localTime(checkedAt)}${check.detail ? `: ${check.detail}` : ''}`).join('; ')}.
    </p>
  );
};

const RetentionSummary: FC<{ retention: MonitoringOverview['retention'] }> = ({ retention: r }) => {
  if (!r.lastRun) return <p class="muted">Not run yet: it runs nightly (RETENTION_CRON).</p>;
  const done = Object.entries(r.lastRun.summary).filter(([, n]) => n > 0);
  return (
    <div>
      {r.overdue ? (
        <p id="retention-overdue" class="bad">
          {r.lastSucceededAt ? `No retention run has succeeded since ${localTime(r.lastSucceededAt)}, though RETENTION_CRON (${r.cron}) has started it twice since` : 'No retention run has succeeded yet'}: nothing is being deleted on time.
        </p>
      ) : null}
      <p id="retention-last-run">
        Last run {localTime(r.lastRun.startedAt)}, {duration(r.lastRun.startedAt, r.lastRun.endedAt)}:{' '}
        <span class={r.lastRun.status === 'succeeded' ? 'ok' : r.lastRun.status === 'running' ? 'muted' : 'bad'}>{r.lastRun.status}</span>
        {r.lastRun.error ? <span class="bad"> — {r.lastRun.error}</span> : null}
      </p>
      {r.lastRun.backlog.length > 0 ? <p id="retention-backlog" class="muted">Stopped at the nightly cap, the rest goes next night: {r.lastRun.backlog.map((step) => backlogNotes[step] ?? step).join(', ')}.</p> : null}
      {done.length === 0 && r.lastRun.status !== 'running' ? <p class="muted">Nothing was due.</p> : null}
      <table>
        {done.map(([key, n]) => (
          <tr data-retained={key}><td>{retentionItems[key] ?? key}</td><td class="num">{n}</td></tr>
        ))}
      </table>
    </div>
  );
};

export const SignIn: FC<{ error?: string }> = ({ error }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>Én plan — sign in</title>
      <style>{style}</style>
    </head>
    <body>
      <header><h1>Én plan integration dashboard</h1></header>
      <main style="display:block;max-width:40rem">
        <section>
          <h2>Sign in with an IT staff token</h2>
          {error ? <p class="bad" id="error">{error}</p> : null}
          <form method="post" action="/dashboard/session">
            <p><label for="token">Bearer token (role it-staff)</label></p>
            <p><textarea id="token" name="token" rows={5} style="width:100%" required></textarea></p>
            <button type="submit">Sign in</button>
          </form>
        </section>
      </main>
    </body>
  </html>
);
