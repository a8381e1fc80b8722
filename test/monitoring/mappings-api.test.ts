/** `/v1/mappings`: list, detail and a preview that stores nothing; IT staff only. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allMappings } from '../../src/sync/all-mappings';
import { startTestApp } from '../support/node-app';

let app: Awaited<ReturnType<typeof startTestApp>>;
let headers: Record<string, string>;
beforeAll(async () => {
  app = await startTestApp({ mappings: allMappings });
  headers = { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['it-staff'] })}`, 'content-type': 'application/json' };
});
afterAll(() => app.close());

const fixture = (dir: string, ending: string) => {
  const file = readdirSync(dir).find((f) => f.endsWith(ending))!;
  return readFileSync(join(dir, file), 'utf8');
};

describe('mappings API', () => {
  it('lists every mapping with its version and shows one in detail', async () => {
    const list = (await (await app.harness.request('/v1/mappings', { headers })).json()) as { mappings: { id: string; version: string }[] };
    expect(list.mappings.map((m) => m.id)).toEqual(expect.arrayContaining(['dfdg.activity', 'education.plan', 'social.careplan', 'health.careplan']));
    expect(list.mappings.every((m) => /^\d+\.\d+\.\d+$/.test(m.version))).toBe(true);
    const detail = (await (await app.harness.request('/v1/mappings/dfdg.activity', { headers })).json()) as { rules: unknown[]; codeLists: { origin: string }[] };
    expect(detail.rules.length).toBeGreaterThan(0);
    expect(detail.codeLists[0]!.origin.length).toBeGreaterThan(3);
    expect((await app.harness.request('/v1/mappings/nope', { headers })).status).toBe(404);
  });

  it('previews a SOAP record and a FHIR resource without storing anything', async () => {
    const before = await app.deps.store.audit.list('101');
    const xml = fixture('test/fixtures/dfdg/activity', '.input.xml');
    const soap = (await (await app.harness.request('/v1/mappings/dfdg.activity/preview', { method: 'POST', headers, body: JSON.stringify({ xml }) })).json()) as { ok: boolean; fragments: { kind: string }[] };
    expect(soap.ok).toBe(true);
    expect(soap.fragments[0]!.kind).toBe('intervention');
    const goalMapping = allMappings.all().find((m) => m.adapter === 'social' && m.recordType === 'Goal')!;
    const resource = JSON.parse(fixture('test/fixtures/social/goal', '.input.json'));
    const fhir = (await (await app.harness.request(`/v1/mappings/${goalMapping.id}/preview`, { method: 'POST', headers, body: JSON.stringify({ resource }) })).json()) as { ok: boolean };
    expect(fhir.ok).toBe(true);
    expect(await app.deps.store.audit.list('101')).toEqual(before);
  });

  it('reports a hostile or wrong record as a failed preview, not an error', async () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><ActivityItem>&b;</ActivityItem>';
    const response = await app.harness.request('/v1/mappings/dfdg.activity/preview', { method: 'POST', headers, body: JSON.stringify({ xml: bomb }) });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { ok: boolean; reason: string }).ok).toBe(false);
    const neither = await app.harness.request('/v1/mappings/dfdg.activity/preview', { method: 'POST', headers, body: '{}' });
    expect(neither.status).toBe(400);
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    expect((await app.harness.request('/v1/mappings', { headers: { authorization: `Bearer ${caseworker}` } })).status).toBe(403);
  });
});
