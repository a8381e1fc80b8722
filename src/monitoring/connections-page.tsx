/**
 * The sector connections' checks as IT staff open them from the dashboard (the same as
 * `GET /v1/monitoring/connections`). A page of its own: opening it probes every source (at most every
 * ten seconds per municipality), which the dashboard itself must not do on each refresh.
 */
import type { FC } from 'hono/jsx';
import type { ConnectionCheck, ConnectionChecks } from './connections';
import { localTime } from './dashboard';

const style = `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.15rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #eef0f3;vertical-align:top}
ul{margin:.3rem 0 0;padding-left:1.1rem}.warning{background:#fff4d6;border-left:3px solid #b26a00;padding:.15rem .4rem;margin:.2rem 0;list-style:none}
.muted{color:#6b7280}.bad{color:#b3261e}.ok{color:#1b7f3b}.num{text-align:right;font-variant-numeric:tabular-nums}`;

/** The adapter puts each warning in `detail` too (for readers of that alone): shown once here, as a warning. */
function detailWithoutWarnings({ detail, warnings }: ConnectionCheck): string {
  return warnings.reduce((text, warning) => text.replace(`; ${warning}`, ''), detail ?? '');
}

export const ConnectionsPage: FC<{ tenant: string; checks: ConnectionChecks }> = ({ tenant, checks }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Én plan — sector connections</title>
      <style>{style}</style>
    </head>
    <body>
      <p><a href="/dashboard">← Dashboard</a></p>
      <h1>Sector connections — municipality {tenant}</h1>
      <p class="muted" id="checked-at">
        Checked {localTime(checks.checkedAt)} (Danish time). Opening the page asks every sector system again, at most every ten seconds: within that, a reload shows the last answer.
      </p>
      {checks.connections.length === 0 ? <p class="muted">No sector system is configured.</p> : null}
      <table id="connections">
        {checks.connections.length > 0 ? (
          <tr><th>Sector system</th><th>Connection</th><th class="num">Took</th><th>Detail</th></tr>
        ) : null}
        {checks.connections.map((c) => (
          <tr data-connection={c.adapter}>
            <td>{c.name}</td>
            <td class={c.ok ? 'ok' : 'bad'}>{c.ok ? (c.warnings.length > 0 ? 'OK, with warnings' : 'OK') : 'Failing'}</td>
            <td class="num">{c.latencyMs} ms</td>
            <td>
              <span class={c.ok ? 'muted' : 'bad'}>{detailWithoutWarnings(c)}</span>
              {c.warnings.length > 0 ? (
                <ul>
                  {c.warnings.map((warning) => (
                    <li class="warning">{warning}</li>
                  ))}
                </ul>
              ) : null}
            </td>
          </tr>
        ))}
      </table>
    </body>
  </html>
);
