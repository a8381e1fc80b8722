/**
 * F3, API: every request body of the bad-input corpus POSTed to the write route it names —
 * truncated, oversized, wrong-typed, mis-encoded, nested 100,000 deep, XML bombs. Each must be
 * answered with a 4xx RFC 9457 problem (`application/problem+json`, the stable `type` the manifest
 * names) — never a 5xx — with no CPR number in the answer or the logs, and with the database
 * exactly as it was before (nothing stored, not even in part).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersOf, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { startTestApp } from '../support/node-app';
import { testCpr } from '../support/cpr';
import { caseBytes, hasCprLike, loadCorpus, snapshot } from './support';

type TestApp = Awaited<ReturnType<typeof startTestApp>>;
let app: TestApp;
const tokens: Record<'caseworker' | 'it-staff', string> = { caseworker: '', 'it-staff': '' };
const placeholders: Record<string, string> = {};

beforeAll(async () => {
  app = await startTestApp({ mappings: allMappings });
  tokens.caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  tokens['it-staff'] = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
  // A real, open plan, so a route that validates its body never gets far enough to say 404 instead.
  const created = await app.harness.request('/v1/plans', {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.caseworker}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cpr: testCpr(), origin: 'offered' }),
  });
  expect(created.status).toBe(201);
  const plan = (await created.json()) as Plan;
  placeholders['{planId}'] = plan.id;
  placeholders['{memberId}'] = membersOf(plan)[0]!.memberId;
});
afterAll(async () => {
  await app?.close();
});

const fill = (text: string) => Object.entries(placeholders).reduce((out, [key, value]) => out.split(key).join(value), text);

/** The body as bytes, with the plan's ids filled in where the case names them. */
function bodyOf(file: string, bytes: Uint8Array): Uint8Array {
  if (file.endsWith('.bin')) return bytes;
  const text = new TextDecoder().decode(bytes);
  return text.includes('{planId}') || text.includes('{memberId}') ? new TextEncoder().encode(fill(text)) : bytes;
}

const apiCases = loadCorpus().filter((c) => c.group === 'api-json');

describe('F3 corpus: API request bodies', () => {
  it.each(apiCases.map((c) => [c.id, c] as const))('%s', async (_id, entry) => {
    const request = entry.request!;
    const before = await snapshot(app.database);
    const logLines = app.logger.lines.length;
    const response = await app.harness.request(fill(request.path), {
      method: request.method,
      headers: {
        authorization: `Bearer ${tokens[request.role]}`,
        'content-type': request.contentType ?? 'application/json',
        ...(request.idempotencyKey ? { 'idempotency-key': crypto.randomUUID() } : {}),
      },
      body: bodyOf(entry.file, caseBytes(entry)),
    });
    const text = await response.text();
    expect(response.status, entry.id).toBeLessThan(500);
    expect(hasCprLike(text), `${entry.id}: the answer holds a CPR-like number`).toBe(false);
    const want = entry.expect;
    if (want.outcome === 'problem') {
      expect(response.status).toBe(want.status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(text) as { type: string; title: string; status: number; errors?: { path: string; message: string }[] };
      expect(problem).toMatchObject({ type: want.type, status: want.status, title: expect.any(String) });
    } else if (want.outcome === 'preview') {
      expect(response.status).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ ok: false, reason: expect.stringMatching(new RegExp(want.reason)) });
    } else throw new Error(`${entry.id}: an API case expects a problem or a preview`);
    expect(await snapshot(app.database), `${entry.id} changed the database`).toEqual(before);
    const newLines = app.logger.lines.slice(logLines).map((line) => JSON.stringify(line));
    expect(newLines.filter(hasCprLike), `${entry.id}: a log line holds a CPR-like number`).toEqual([]);
  });
});
