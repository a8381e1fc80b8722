/** `/docs`: a readable API reference rendered from the OpenAPI document itself — no external CDN. */
import type { FC } from 'hono/jsx';

interface Operation {
  summary?: string;
  'x-roles'?: string[];
  requestBody?: unknown;
  parameters?: { name: string; in: string }[];
  responses?: Record<string, { description?: string }>;
}
type OpenApiDocument = { info: { title: string; version: string; description?: string }; paths: Record<string, Record<string, Operation>>; webhooks?: Record<string, Record<string, Operation>> };

export const DocsPage: FC<{ doc: OpenApiDocument }> = ({ doc }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>{doc.info.title} — API reference</title>
      <style>{`body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}.op{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:.6rem 0}
.m{font-weight:700;text-transform:uppercase;margin-right:.5rem}.roles{color:#555;font-size:.9em}`}</style>
    </head>
    <body>
      <h1>{doc.info.title}</h1>
      <p>Version {doc.info.version}. {doc.info.description}</p>
      <p>
        Machine-readable: <a href="/openapi.json">/openapi.json</a>. Errors are RFC 9457 problem documents; their types are listed under{' '}
        <a href="/problems">/problems</a>.
      </p>
      {Object.entries(doc.paths).map(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => (
          <div class="op">
            <div>
              <span class="m">{method}</span>
              <code>{path}</code>
            </div>
            <div>{op.summary}</div>
            {op['x-roles'] ? <div class="roles">Roles: {op['x-roles'].join(', ')}</div> : <div class="roles">No token needed</div>}
            <div class="roles">Responses: {Object.entries(op.responses ?? {}).map(([code, r]) => `${code} ${r.description ?? ''}`).join(' · ')}</div>
          </div>
        )),
      )}
      <h2 id="events">Events to subscribers</h2>
      <p>
        What a subscription (<code>POST /v1/subscriptions</code>) receives: a <code>POST</code> to its address, signed per Standard Webhooks
        (<code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>); the bodies are in <a href="/openapi.json">/openapi.json</a> under <code>webhooks</code>.
      </p>
      {Object.entries(doc.webhooks ?? {}).map(([name, methods]) =>
        Object.entries(methods).map(([, op]) => (
          <div class="op" data-event={name}>
            <div>
              <span class="m">event</span>
              <code>{name}</code>
            </div>
            <div>{op.summary}</div>
            <div class="roles">Answer: {Object.values(op.responses ?? {}).map((r) => r.description ?? '').join(' · ')}</div>
          </div>
        )),
      )}
    </body>
  </html>
);
