/**
 * A quarantined record's payload as IT staff read it from the dashboard (the same as
 * `GET /v1/sync/quarantine/{id}/payload`), and what the current mapping makes of it now. Text only:
 * hono/jsx escapes the payload, which is whatever the source sent.
 */
import type { FC, PropsWithChildren } from 'hono/jsx';
import type { QuarantinedPayload } from '../sync/quarantine';
import { localTime } from './dashboard';

const style = `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.15rem}table{border-collapse:collapse}td,th{text-align:left;padding:.2rem .6rem .2rem 0;vertical-align:top}
pre{background:#f6f7f9;border:1px solid #dde1e6;border-radius:6px;padding:.6rem;white-space:pre-wrap;word-break:break-all}
.muted{color:#6b7280}.bad{color:#b3261e}.ok{color:#1b7f3b}
button{font:inherit;padding:.15rem .6rem;border:1px solid #12355b;background:#fff;color:#12355b;border-radius:4px;cursor:pointer}`;

const Page: FC<PropsWithChildren<{ title: string }>> = ({ title, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title}</title>
      <style>{style}</style>
    </head>
    <body>
      <p><a href="/dashboard">← Dashboard</a></p>
      {children}
    </body>
  </html>
);

const LookNote: FC = () => <p class="muted">This look is in the audit log, and the citizen's own log says that IT staff looked at their data.</p>;

export const QuarantinedPayloadPage: FC<{ record: QuarantinedPayload }> = ({ record: r }) => (
  <Page title={`Quarantined record ${r.id}`}>
    <h1>Quarantined record {r.id}</h1>
    <table id="record">
      <tr><th>Sector system</th><td>{r.adapter}</td></tr>
      <tr><th>Record</th><td>{r.recordType} {r.recordId ?? '(no id)'}</td></tr>
      <tr><th>Reason</th><td class="bad" id="reason">{r.reason}</td></tr>
      <tr><th>Mapping</th><td>{r.mappingId ? `${r.mappingId} ${r.mappingVersion ?? '(version not recorded)'}` : 'failed before mapping'}</td></tr>
      <tr><th>Quarantined</th><td>{localTime(r.createdAt)} (Danish time)</td></tr>
      <tr><th>Resolved</th><td>{r.resolvedAt ? `${localTime(r.resolvedAt)} (Danish time)` : 'open'}</td></tr>
    </table>
    <h2>Payload</h2>
    <p class="muted" id="masking">{`${r.masking.cprLikeNumbers} masked. ${r.masking.note}`}{r.mayBeCut ? ' The payload reached the length kept, so the source’s may have been longer.' : ''}</p>
    <pre id="payload">{r.payload}</pre>
    {r.currentMapping ? (
      <form method="post" action={`/dashboard/quarantine/${r.id}/preview`}>
        <button type="submit" title="Run the stored payload through the mapping this record type has now; nothing is stored">
          {`Preview with ${r.currentMapping.id} ${r.currentMapping.version}`}
        </button>
      </form>
    ) : null}
    <LookNote />
  </Page>
);

export const QuarantinePreviewPage: FC<{ id: string; mapping: { id: string; version: string }; result: Record<string, unknown> }> = ({ id, mapping, result }) => {
  const { note, ...outcome } = result;
  return (
    <Page title={`Quarantined record ${id}: preview`}>
      <h1>Quarantined record {id}: preview</h1>
      <p id="preview-outcome" class={outcome.ok ? 'ok' : 'bad'}>
        {outcome.ok ? `${mapping.id} ${mapping.version} maps it now.` : `${mapping.id} ${mapping.version} fails it: ${String(outcome.ruleId)}: ${String(outcome.reason)}`}
      </p>
      <p class="muted">{String(note ?? '')}</p>
      <pre id="preview">{JSON.stringify(outcome, null, 2)}</pre>
      <LookNote />
    </Page>
  );
};

export const QuarantineProblemPage: FC<{ id: string; title: string; detail?: string }> = ({ id, title, detail }) => (
  <Page title={`Quarantined record ${id}`}>
    <h1>Quarantined record {id}</h1>
    <p class="bad" id="problem">{title}{detail ? `: ${detail}` : ''}</p>
  </Page>
);
