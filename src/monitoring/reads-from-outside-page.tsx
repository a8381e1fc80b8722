/**
 * The DPO's log follow-up as a page (decision 0032): caseworkers' openings of plans their department
 * takes no part in, users named — the same list as `GET /v1/data-subject/reads-from-outside`. For the
 * DPO alone: IT staff see how many (the dashboard), never who.
 */
import type { FC } from 'hono/jsx';
import type { ReadFromOutside } from '../views/involvement';
import { localTime, SignOut } from './dashboard';

const style = `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.25rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #eef0f3;vertical-align:top}
.muted{color:#6b7280}code{font-size:12px}nav.page-nav{display:flex;gap:.25rem;align-items:baseline}nav.page-nav form{margin-left:auto}@media print{a,nav form{display:none}}`;

const how: Record<string, string> = { 'plan.read': 'opened the plan', 'plan.looked-up': 'found it by CPR number' };

export const ReadsFromOutsidePage: FC<{ tenant: string; from: string; to: string; entries: ReadFromOutside[]; nextAfterSeq: number | null }> = ({ tenant, from, to, entries, nextAfterSeq }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Reads from outside a plan — municipality {tenant}</title>
      <style>{style}</style>
    </head>
    <body>
      <nav class="page-nav">
        <a href="/dashboard/processing-record">← Record of processing</a>
        <SignOut />
      </nav>
      <h1>Reads from outside a plan — municipality {tenant}</h1>
      <p class="muted">
        Caseworkers who opened a plan, or found one by CPR number, while their department took no part in it (not coordinating it, not made a party, no element of
        its sector, no consent naming it). One line per member told of it. From {localTime(from)} to {localTime(to)} (Danish time). Your look at this list is logged.
      </p>
      <table id="reads-from-outside">
        <thead>
          <tr><th>When</th><th>User</th><th>Department</th><th>What</th><th>Plan</th><th>Member</th></tr>
        </thead>
        <tbody>
          {entries.length === 0 ? (
            <tr>
              <td colspan={6} class="muted">None in this period.</td>
            </tr>
          ) : null}
          {entries.map((e) => (
            <tr data-seq={String(e.seq)}>
              <td>{localTime(e.at)}</td>
              <td>{e.actor.slice(e.actor.indexOf(':') + 1)}</td>
              <td>{e.department ?? ''}</td>
              <td>{how[e.action] ?? e.action}</td>
              <td><code>{e.planId}</code></td>
              <td><code>{e.citizenId ?? ''}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
      {nextAfterSeq !== null ? (
        <p><a id="next-page" href={`/dashboard/reads-from-outside?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&afterSeq=${nextAfterSeq}`}>Next page →</a></p>
      ) : null}
    </body>
  </html>
);
