/**
 * IT staff reading why a record failed its mapping: the stored payload of a quarantined record, with
 * every CPR-shaped number masked, its reason, mapping and identity — each look in the audit log, told
 * to the citizen in Danish and listed for the DPO; a payload retention removed, or one that cannot be
 * opened, is a problem saying so. The dashboard shows it too, and previews it with the current mapping.
 */
import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { holdsCprNumber, redactCpr } from '../../src/security/redact';
import { quarantine } from '../../src/store/schema';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { runRetention } from '../../src/sync/retention';
import { startTestApp } from '../support/node-app';
import { activityMapping, beforeTheFix } from '../support/refusing-activities';
import { dfdgSimulator } from '../support/sector-simulators';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(4, 6262).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: false } }));
const simulators = dfdgSimulator(population);

const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;

interface PayloadAnswer {
  id: string;
  adapter: string;
  recordType: string;
  recordId: string | null;
  reason: string;
  mappingId: string | null;
  mappingVersion: string | null;
  currentMapping: { id: string; version: string } | null;
  payload: string;
  masking: { cprLikeNumbers: number; note: string };
}

/** An app whose clock can be moved on (retention), with one citizen's activities quarantined by a real DFDG sync. */
async function quarantinedBySync() {
  let shift = 0;
  const app = await startTestApp({
    adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) },
    mappings: allMappings,
    clock: { now: () => new Date(Date.now() + shift) },
  });
  const citizen = population[0]!;
  const plan = await enrol(app.deps, citizen.cpr);
  await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
  const run = await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: beforeTheFix });
  expect(run.stats.quarantined).toBeGreaterThan(0);
  const entries = await app.deps.store.sync.quarantined('101');
  const headers = async (roles: ('it-staff' | 'caseworker' | 'dpo')[], tenant = '101', sub = 'it-anna') => ({ authorization: `Bearer ${await app.harness.token({ tenant, roles, sub })}`, 'content-type': 'application/json' });
  const read = async (id: string, h?: Record<string, string>) => app.harness.request(`/v1/sync/quarantine/${id}/payload`, { headers: h ?? (await headers(['it-staff'])) });
  return { app, citizen, plan, entries, headers, read, moveClock: (days: number) => (shift += days * 86_400_000) };
}

describe('a quarantined record’s payload for IT staff', () => {
  it('shows the stored payload with CPR numbers masked, its reason, mapping and identity, and audits the look for the citizen and the DPO', async () => {
    const { app, citizen, plan, entries, headers, read } = await quarantinedBySync();
    const entry = entries[0]!;
    const stored = await app.deps.vault.openPayload(entry.raw!, { column: 'quarantine.raw', tenant: '101', id: entry.id });
    // The DFDG record names the citizen by CPR number: the stored payload holds it.
    expect(stored.includes(citizen.cpr)).toBe(true);

    const answer = await read(entry.id);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as PayloadAnswer;
    expect(body).toMatchObject({ id: entry.id, adapter: 'dfdg', recordType: 'activity', recordId: entry.recordId, reason: 'activity.type: the activation type list lacks this code', mappingId: activityMapping.id, mappingVersion: activityMapping.version, currentMapping: { id: activityMapping.id, version: activityMapping.version } });
    // The payload as stored, but for its CPR-shaped numbers, and it says so.
    expect(body.payload.includes(citizen.cpr)).toBe(false);
    expect(holdsCprNumber(body.payload)).toBe(false);
    expect(body.payload).toContain(`"ActivityIdentifier":"${entry.recordId}"`);
    expect(body.payload).toBe(redactCpr(stored));
    expect(body.masking.cprLikeNumbers).toBe(body.payload.split('[cpr]').length - 1);
    expect(body.masking.cprLikeNumbers).toBeGreaterThanOrEqual(1);
    expect(body.masking.note).toContain('[cpr]');

    // Who, which record, when — no content.
    const audit = (await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-read');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'it-staff:it-anna', targetType: 'quarantine', targetId: entry.id, citizenId: citizenIdOf(plan), detail: { adapter: 'dfdg', recordType: 'activity', purpose: 'shown', anonymousTreatment: false } });
    expect(JSON.stringify(audit[0]!.detail)).not.toContain('ActivityIdentifier');
    expect(Object.keys(audit[0]!.detail).sort()).toEqual(['adapter', 'anonymousTreatment', 'cprLikeNumbersMasked', 'purpose', 'recordType']);

    // The citizen's own log says, in Danish, that IT staff looked at it and why.
    const citizenToken = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: citizenIdOf(plan) });
    const log = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizenToken}` } })).json()) as { flows: { kind: string; recipient: string; source: string; text: string }[] };
    const looked = log.flows.filter((f) => f.recipient === 'it-staff');
    expect(looked).toHaveLength(1);
    expect(looked[0]).toMatchObject({ kind: 'viewed', source: 'dfdg' });
    expect(looked[0]!.text).toMatch(/^Den \d+\. \w+ \d{4} kl\. \d\d\.\d\d så en it-medarbejder i kommunen oplysninger om dig fra Jobcentret \(DFDG\), som Én plan ikke kunne læse ind i din plan, for at finde fejlen\. CPR-numre var skjult\.$/);

    // The DPO's access log names who it was.
    const dpoLog = await app.harness.request('/v1/data-subject/access-log', { method: 'POST', headers: await headers(['dpo'], '101', 'dpo-karen'), body: JSON.stringify({ cpr: citizen.cpr }) });
    expect(dpoLog.status).toBe(200);
    const entriesForDpo = ((await dpoLog.json()) as { entries: { actor: string; action: string; targetId: string }[] }).entries.filter((e) => e.action === 'quarantine.payload-read');
    expect(entriesForDpo).toEqual([expect.objectContaining({ actor: 'it-staff:it-anna', targetId: entry.id })]);
    await app.close();
  });

  it('is for IT staff of the record’s municipality only: other roles 403, other municipalities and unknown ids 404, nothing audited', async () => {
    const { app, entries, headers, read } = await quarantinedBySync();
    const id = entries[0]!.id;
    for (const role of ['caseworker', 'dpo'] as const) expect((await read(id, await headers([role]))).status, role).toBe(403);
    const elsewhere = await read(id, await headers(['it-staff'], '751'));
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.headers.get('content-type')).toContain('application/problem+json');
    expect((await read('no-such-entry')).status).toBe(404);
    expect((await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-read')).toEqual([]);
    await app.close();
  });

  it('a payload retention removed answers 410 with the date it was removed; one sealed for another row answers a problem, not a 500', async () => {
    const { app, entries, read, moveClock } = await quarantinedBySync();
    expect(entries.length).toBeGreaterThanOrEqual(2);
    const [first, second] = entries as [(typeof entries)[0], (typeof entries)[0]];

    // A ciphertext copied into another row does not open there: refused, with the reason, and not audited as a look.
    await app.database.db.update(quarantine).set({ raw: first.raw }).where(and(eq(quarantine.tenant, '101'), eq(quarantine.id, second.id)));
    const misplaced = await read(second.id);
    expect(misplaced.status).toBe(409);
    expect(misplaced.headers.get('content-type')).toContain('application/problem+json');
    const unreadable = (await misplaced.json()) as { type: string; detail: string };
    expect(unreadable.type).toBe('/problems/quarantine-payload-unreadable');
    expect(unreadable.detail).toContain('sealed for another row');
    expect((await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-read')).toEqual([]);

    // Retention, past the payload period: the payload goes, the entry stays.
    moveClock(app.deps.config.retention.payloadDays + 1);
    const prunedOn = app.deps.clock.now().toISOString().slice(0, 10);
    expect((await runRetention(app.deps)).quarantinePayloadsPruned).toBe(entries.length);
    const pruned = await read(first.id);
    expect(pruned.status).toBe(410);
    const gone = (await pruned.json()) as { type: string; detail: string };
    expect(gone.type).toBe('/problems/quarantine-payload-pruned');
    expect(gone.detail).toContain(`on ${prunedOn}`);
    expect(gone.detail).toContain(`${app.deps.config.retention.payloadDays} days`);
    await app.close();
  });

  it('an open refused (sealed for another row, or pruned) is audited as an attempt without content: listed for the DPO, not told to the citizen', async () => {
    const { app, citizen, plan, entries, headers, read, moveClock } = await quarantinedBySync();
    const [first, second] = entries as [(typeof entries)[0], (typeof entries)[0]];
    await app.database.db.update(quarantine).set({ raw: first.raw }).where(and(eq(quarantine.tenant, '101'), eq(quarantine.id, second.id)));
    expect((await read(second.id)).status).toBe(409);
    moveClock(app.deps.config.retention.payloadDays + 1);
    await runRetention(app.deps);
    expect((await read(first.id)).status).toBe(410);

    const attempts = (await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-open-refused');
    expect(attempts.map((r) => ({ actor: r.actor, targetType: r.targetType, targetId: r.targetId, citizenId: r.citizenId, detail: r.detail }))).toEqual([
      { actor: 'it-staff:it-anna', targetType: 'quarantine', targetId: second.id, citizenId: citizenIdOf(plan), detail: { adapter: 'dfdg', recordType: 'activity', purpose: 'shown', refusal: 'quarantine-payload-unreadable' } },
      { actor: 'it-staff:it-anna', targetType: 'quarantine', targetId: first.id, citizenId: citizenIdOf(plan), detail: { adapter: 'dfdg', recordType: 'activity', purpose: 'shown', refusal: 'quarantine-payload-pruned' } },
    ]);
    expect((await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-read')).toEqual([]);

    const dpoLog = await app.harness.request('/v1/data-subject/access-log', { method: 'POST', headers: await headers(['dpo'], '101', 'dpo-karen'), body: JSON.stringify({ cpr: citizen.cpr }) });
    const forDpo = ((await dpoLog.json()) as { entries: { actor: string; action: string; targetId: string }[] }).entries.filter((e) => e.action === 'quarantine.payload-open-refused');
    expect(forDpo.map((e) => e.targetId)).toEqual([second.id, first.id]);
    // Nothing of the citizen's was seen: their own log tells of no look by IT staff.
    const citizenToken = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: citizenIdOf(plan) });
    const log = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizenToken}` } })).json()) as { flows: { recipient: string }[] };
    expect(log.flows.filter((f) => f.recipient === 'it-staff')).toEqual([]);
    await app.close();
  });

  it('previews the stored payload with the current mapping version: the fixed mapping now maps it, CPR numbers masked, the look audited', async () => {
    const { app, citizen, entries, headers } = await quarantinedBySync();
    const entry = entries[0]!;
    const preview = (mappingId: string, body: unknown) => headers(['it-staff']).then((h) => app.harness.request(`/v1/mappings/${mappingId}/preview`, { method: 'POST', headers: h, body: JSON.stringify(body) }));
    const answer = await preview(activityMapping.id, { quarantineId: entry.id });
    expect(answer.status).toBe(200);
    const result = (await answer.json()) as { ok: boolean; fragments: unknown[]; note: string };
    expect(result.ok).toBe(true);
    expect(result.fragments.length).toBeGreaterThan(0);
    expect(result.note).toContain(entry.id);
    const text = JSON.stringify(result);
    expect(text.includes(citizen.cpr)).toBe(false);
    expect(holdsCprNumber(text)).toBe(false);
    expect((await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-read').map((r) => r.detail)).toEqual([
      { adapter: 'dfdg', recordType: 'activity', purpose: 'preview', mappingId: activityMapping.id, mappingVersion: activityMapping.version, anonymousTreatment: false },
    ]);
    // Another mapping than the record's is refused before anything is opened; xml, resource and a quarantined record are one at a time.
    expect((await preview('dfdg.employment-plan', { quarantineId: entry.id })).status).toBe(400);
    expect((await preview(activityMapping.id, { quarantineId: entry.id, resource: {} })).status).toBe(400);
    expect((await preview(activityMapping.id, { quarantineId: 'no-such-entry' })).status).toBe(404);
    expect((await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-read')).toHaveLength(1);
    await app.close();
  });
});

describe('the dashboard’s quarantine list', () => {
  it('shows a record’s payload escaped and masked in a <pre>, only for an IT staff session and a form posted from the dashboard, and previews it', async () => {
    const { app, citizen, entries } = await quarantinedBySync();
    const entry = entries[0]!;
    // A hostile payload too: what the source sent is shown as text, never as markup, and a CPR number
    // spelled with JSON escapes is masked as well.
    const escapedCpr = [...citizen.cpr].map((digit) => `\\u003${digit}`).join('');
    const hostilePayload = `{"note":"<script>alert(1)</script>","escaped":"${escapedCpr}"}`;
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q-hostile', tenant: '101', adapter: 'social', recordType: 'Goal', recordId: 'g-1', mappingId: 'social.goal', reason: 'contract: lifecycleStatus', raw: await app.deps.vault.sealPayload(hostilePayload, { column: 'quarantine.raw', tenant: '101', id: 'q-hostile' }), runId: null, citizenId: null, createdAt: '2026-11-23T08:00:00.000Z' }),
    ]);
    const cookieOf = async (role: 'it-staff' | 'caseworker') => `enplan_session=${await app.harness.token({ tenant: '101', roles: [role], sub: 'it-anna' })}`;
    const post = async (path: string, role: 'it-staff' | 'caseworker' = 'it-staff', origin = 'http://localhost') =>
      app.harness.request(path, { method: 'POST', headers: { cookie: await cookieOf(role), 'content-type': 'application/x-www-form-urlencoded', origin }, body: '' });

    const list = await (await app.harness.request('/dashboard', { headers: { cookie: await cookieOf('it-staff') } })).text();
    expect(list).toMatch(new RegExp(`<tr data-quarantine="${entry.id}">.*?<form method="post" action="/dashboard/quarantine/${entry.id}/payload"`, 's'));

    const page = await post(`/dashboard/quarantine/${entry.id}/payload`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const pre = /<pre id="payload">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? '';
    expect(pre).toContain('ActivityIdentifier');
    expect(pre).toContain('[cpr]');
    expect(html.includes(citizen.cpr)).toBe(false);
    expect(html).toContain('activity.type: the activation type list lacks this code');
    expect(html).toMatch(new RegExp(`<form method="post" action="/dashboard/quarantine/${entry.id}/preview"`));

    const hostile = await (await post('/dashboard/quarantine/q-hostile/payload')).text();
    expect(JSON.parse(hostilePayload).escaped === citizen.cpr).toBe(true);
    expect(/<pre id="payload">([\s\S]*?)<\/pre>/.exec(hostile)?.[1]).toBe('{&quot;note&quot;:&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;,&quot;escaped&quot;:&quot;[cpr]&quot;}');
    expect(hostile).not.toContain('<script>');

    // A caseworker's session goes back to the sign-in page; a form from another site is refused; neither is a look.
    expect((await post(`/dashboard/quarantine/${entry.id}/payload`, 'caseworker')).headers.get('location')).toBe('/dashboard');
    expect((await post(`/dashboard/quarantine/${entry.id}/payload`, 'it-staff', 'https://elsewhere.example')).status).toBe(403);

    const previewed = await (await post(`/dashboard/quarantine/${entry.id}/preview`)).text();
    expect(/<p id="preview-outcome"[^>]*>([^<]*)</.exec(previewed)?.[1]).toBe(`${activityMapping.id} ${activityMapping.version} maps it now.`);
    expect(previewed.includes(citizen.cpr)).toBe(false);

    // A payload that is gone is said on the page, not a 500.
    const missing = await post('/dashboard/quarantine/no-such-entry/payload');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('no quarantined record with that id');

    const looks = (await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.payload-read');
    expect(looks.map((r) => [r.targetId, r.detail.purpose])).toEqual([[entry.id, 'shown'], ['q-hostile', 'shown'], [entry.id, 'preview']]);
    await app.close();
  });
});
