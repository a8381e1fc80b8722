/**
 * The FHIR change feed where many records share one `meta.lastUpdated` (a transaction stamps all its
 * resources with one instant) and the server orders them its own way: `_sort=_lastUpdated` promises
 * no order within an instant (HAPI answers in its row order; our simulator happens to sort by id).
 * Whatever the page size, every change is reported once and none is skipped (issue 4: never skip).
 * The server here is a small FHIR search over real HTTP that answers in insertion order.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fictitiousCpr } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';

const cpr = fictitiousCpr(new Date(Date.UTC(1980, 0, 1)), 77);
const instant = (seconds: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, seconds)).toISOString();
// In the order the server answers: an instant of its own first, then a transaction of seven
// CarePlans at one instant, in no order of id, then one more instant.
const stored = [
  { id: 'early', at: instant(1) },
  ...['g', 'c', 'a', 'f', 'b', 'e', 'd'].map((id) => ({ id, at: instant(2) })),
  { id: 'late', at: instant(3) },
].map(({ id, at }) => ({ resourceType: 'CarePlan', id, meta: { versionId: '1', lastUpdated: at }, subject: { reference: 'Patient/p1' } }));

let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://localhost');
    const reply = (body: unknown) => {
      response.writeHead(200, { 'content-type': 'application/fhir+json' });
      response.end(JSON.stringify(body));
    };
    const bundle = (entries: unknown[], next?: string) => ({ resourceType: 'Bundle', type: 'searchset', entry: entries.map((resource) => ({ resource })), link: next ? [{ relation: 'next', url: next }] : [] });
    if (url.pathname.endsWith('/_history')) return reply({ resourceType: 'Bundle', type: 'history', entry: [] });
    if (url.pathname.includes('/Patient'))
      return reply(bundle([{ resourceType: 'Patient', id: 'p1', meta: { versionId: '1', lastUpdated: instant(0) }, identifier: [{ system: 'urn:oid:1.2.208.176.1.2', value: cpr }] }]));
    // The system search: `_lastUpdated=ge…`, sorted by time only (a stable sort keeps insertion order within an instant), paged by offset.
    const from = url.searchParams.get('_lastUpdated')?.replace(/^ge/, '');
    const matching = stored.filter((r) => !from || Date.parse(r.meta.lastUpdated) >= Date.parse(from)).sort((a, b) => Date.parse(a.meta.lastUpdated) - Date.parse(b.meta.lastUpdated));
    const count = Number(url.searchParams.get('_count') ?? '100');
    const offset = Number(url.searchParams.get('_offset') ?? '0');
    const next = new URL(`${baseUrl}${url.pathname}${url.search}`);
    next.searchParams.set('_offset', String(offset + count));
    reply(bundle(matching.slice(offset, offset + count), offset + count < matching.length ? next.href : undefined));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the FHIR change feed over records of one instant in the server’s own order', () => {
  for (const limit of [1, 2, 3, 4, 100])
    it(`reports each change once and skips none, ${limit} per page`, async () => {
      const adapter = createSocialAdapter({ baseUrl, timeoutMs: 5000 });
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const result = await adapter.changes(cursor, limit);
        seen.push(...result.changes.map((c) => c.recordId));
        cursor = result.cursor;
        if (!result.hasMore) break;
      }
      expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'early', 'f', 'g', 'late']);
      // Read again from the cursor reached: nothing new, nothing twice.
      expect((await adapter.changes(cursor, limit)).changes).toEqual([]);
    });
});
