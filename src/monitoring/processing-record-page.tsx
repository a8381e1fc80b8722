/** The record of processing (R16) as a page a data-protection officer can read and print: the same record as `GET /v1/processing-record`. */
import type { FC } from 'hono/jsx';
import type { ProcessingRecord } from '../consent/processing-record';
import { localTime, SignOut } from './dashboard';

const style = `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.25rem}h2{font-size:1.05rem;margin-top:1.4rem;border-bottom:1px solid #dde1e6}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #eef0f3;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#6b7280}nav.page-nav{display:flex;gap:.25rem;align-items:baseline}nav.page-nav form{margin-left:auto}@media print{a,nav form{display:none}}`;

const NoneYet: FC<{ columns: number; text: string }> = ({ columns, text }) => (
  <tr>
    <td colspan={columns} class="muted">{text}</td>
  </tr>
);

/** `dpo`: the reader holds the DPO's role, so the page links the log follow-up (decision 0032). */
/** `dashboard`: the reader may open the dashboard (IT staff); a DPO alone starts here. */
export const ProcessingRecordPage: FC<{ record: ProcessingRecord; dpo?: boolean; dashboard?: boolean }> = ({ record: r, dpo, dashboard }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Record of processing — municipality {r.tenant}</title>
      <style>{style}</style>
    </head>
    <body>
      <nav class="page-nav">
        {dashboard ? <a href="/dashboard">← Dashboard</a> : null}
        {dashboard && dpo ? ' · ' : null}
        {dpo ? (
          <a id="reads-from-outside-link" href="/dashboard/reads-from-outside">
            Reads from outside a plan (log follow-up)
          </a>
        ) : null}
        <SignOut />
      </nav>
      <h1>Record of processing (GDPR art. 30) — municipality {r.tenant}</h1>
      <p class="muted">As this service carries it out, derived from its configuration, its dated rules and the consents in force. Drawn up {localTime(r.generatedAt)} (Danish time). Counts only: no citizen is named.</p>

      <h2>Purpose</h2>
      <p id="purpose">{r.purpose}</p>

      <h2>Data subjects</h2>
      <p id="subjects">
        {r.dataSubjects.enrolledPlans} accepted or active plans ({Object.entries(r.dataSubjects.plansByStatus).map(([status, n]) => `${status} ${n}`).join(', ') || 'no plans'}). {r.dataSubjects.note}
      </p>

      <h2>Categories of data</h2>
      <table id="categories">
        <tbody>
          {r.categoriesOfData.length === 0 ? <NoneYet columns={2} text="No data may flow today." /> : null}
          {r.categoriesOfData.map((c) => (
            <tr>
              <td>{c.category}</td>
              <td class="muted">{c.note ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Where the data comes from</h2>
      <table id="sources">
        <thead>
          <tr><th>System</th><th>Read</th><th>Host</th><th>Transport</th><th>Changes</th><th>Mappings</th></tr>
        </thead>
        <tbody>
          {r.sources.map((s) => (
            <tr data-source={s.system}>
              <td>{s.name}</td>
              <td>{s.read ? 'yes' : 'no'}</td>
              <td>{s.host ?? '—'}</td>
              <td>{s.transport ?? '—'}</td>
              <td>{s.changeNotices ?? '—'}</td>
              <td>{s.mappings.map((m) => `${m.id}@${m.version}`).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Flows on consent (in force today)</h2>
      <table id="flows-consent">
        <thead>
          <tr><th>From</th><th>To</th><th>Category</th><th class="num">Citizens</th><th class="num">Grants</th></tr>
        </thead>
        <tbody>
          {r.flowsOnConsent.length === 0 ? <NoneYet columns={5} text="No grant is in force." /> : null}
          {r.flowsOnConsent.map((f) => (
            <tr>
              <td>{f.source}</td><td>{f.recipient}</td><td>{f.category}</td><td class="num">{f.citizens}</td><td class="num">{f.grants}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Flows on another legal basis (R11)</h2>
      <table id="flows-legal-basis">
        <thead>
          <tr><th>Legal basis</th><th>From</th><th>To</th><th>Category</th><th class="num">Citizens</th><th class="num">Not yet told</th></tr>
        </thead>
        <tbody>
          {r.flowsOnOtherLegalBasis.length === 0 ? <NoneYet columns={6} text="None recorded." /> : null}
          {r.flowsOnOtherLegalBasis.map((f) => (
            <tr>
              <td>{f.basis}</td><td>{f.source}</td><td>{f.recipient}</td><td>{f.category}</td><td class="num">{f.citizens}</td><td class="num">{f.notYetInformed}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Where registrations are sent (rules {r.registrationsSentTo.ruleSetVersion})</h2>
      <table id="registrations">
        <thead>
          <tr><th>To</th><th>What</th><th>Legal reference</th><th>Checked</th></tr>
        </thead>
        <tbody>
          {r.registrationsSentTo.rules.map((rule) => (
            <tr>
              <td>{rule.target ?? '—'}</td><td>{rule.description}</td><td>{rule.legalReference}</td><td>{rule.verification}</td>
            </tr>
          ))}
          {r.registrationsSentTo.neverSent.map((rule) => (
            <tr>
              <td>never</td><td>{rule.description}</td><td>{rule.legalReference}</td><td></td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Event subscribers</h2>
      <ul id="subscribers">
        {r.eventSubscribers.length === 0 ? <li class="muted">None.</li> : null}
        {r.eventSubscribers.map((s) => (
          <li>{s.host ?? '—'}{s.system ? ` (for ${s.system})` : ''}: {s.events.join(', ')} ({s.content}) — hears of {s.hears}</li>
        ))}
      </ul>

      <h2>Retention</h2>
      <ul id="retention">
        <li>Closed and declined plans are deleted after {r.retention.closedPlansDays} days, with their registrations, and so is a citizen left with no plan; stored payload bodies after {r.retention.payloadBodiesDays} days.</li>
        <li>Audit log: {r.retention.auditLog}.</li>
        <li>Consent: {r.retention.lapsedConsent}.</li>
        <li>Erasure before that: {r.retention.erasure}.</li>
      </ul>

      <h2>Protection</h2>
      <ul id="security">
        <li>CPR numbers at rest: {r.security.cprAtRest}; {r.security.cprElsewhere}.</li>
        <li>Access: {r.security.access}.</li>
        <li>Quarantined payloads: {r.security.quarantinedPayloads}.</li>
        <li>Caseworkers’ reads: {r.security.caseworkerReads}.</li>
        <li>Audit log: {r.security.auditLog}.</li>
        <li>Rules version: {r.security.rulesVersion}.</li>
      </ul>
    </body>
  </html>
);
