/**
 * F3 end to end: the corpus cases marked `e2e` (at least one per class) through a real sync against
 * the running simulators. The SOAP simulators' real read replies get the bad record spliced in on
 * the way back (the adapter's `fetch`), the FHIR simulator stores it (`putRaw`) or cuts its answer
 * (its malformed-reply fault). Each bad record must end quarantined with a readable reason and no
 * CPR number, visible to IT staff through `GET /v1/sync/quarantine`; the run must succeed; and
 * nothing of the bad record may reach the plan, while the citizen's good records still do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { createEducationAdapter } from '../../adapters/education/adapter';
import { startEducationSimulator, type EducationSimulator } from '../../adapters/education';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { membersOf, type DataCategory, type Plan, type SourceSystem } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { caseText, hasCprLike, loadCorpus, readableReasonProblems, type CorpusCase } from './support';

const population: SyntheticCitizen[] = generatePopulation(12, 3303).map((c) => ({ ...c, sectors: { employment: true, education: true, social: true, health: true } }));
let dfdg: DfdgSimulator;
let education: EducationSimulator;
let social: SectorSimulator;
let health: SectorSimulator;

beforeAll(async () => {
  [dfdg, education, social, health] = await Promise.all([
    startDfdgSimulator({ population, port: 0 }),
    startEducationSimulator({ population, port: 0 }),
    startSocialSimulator({ population, port: 0 }),
    startHealthSimulator({ population, port: 0 }),
  ]);
});
afterAll(async () => {
  await Promise.all([dfdg?.close(), education?.close(), social?.close(), health?.close()]);
});

const READ_REPLY = { dfdg: 'PersonPlanDataReadResponse', education: 'HentBorgerDataResponse' } as const;
const FIXTURE_CPRS = ['0303951111', '1205871234', '0809064321'];

/**
 * The SOAP adapter's fetch: the simulator answers for real; a read reply gets `record` (about the
 * synced citizen) inserted as one more record element, or is replaced whole by `reply`.
 */
function splicingFetch(system: 'dfdg' | 'education', splice: () => { record?: string; reply?: string }): typeof fetch {
  return (async (input: Request | string | URL, init?: RequestInit) => {
    const response = await fetch(input, init);
    const text = await response.text();
    const at = text.indexOf(`<${READ_REPLY[system]}`);
    const { record, reply } = splice();
    if (at < 0) return new Response(text, { status: response.status, headers: response.headers });
    const body = reply ?? (record === undefined ? text : `${text.slice(0, text.indexOf('>', at) + 1)}${record}${text.slice(text.indexOf('>', at) + 1)}`);
    return new Response(body, { status: response.status, headers: { 'content-type': 'text/xml; charset=utf-8' } });
  }) as typeof fetch;
}

const categoriesFor: Record<SourceSystem, DataCategory[]> = {
  dfdg: ['plan-core', 'employment', 'goals', 'interventions'],
  education: ['plan-core', 'education', 'goals', 'interventions'],
  social: ['plan-core', 'social', 'goals', 'interventions'],
  health: ['health'],
};

let nextCitizen = 0;

/** A fresh app with the one adapter, one enrolled citizen with consent, and the bad record in place. */
async function syncWithBadInput(entry: CorpusCase) {
  const citizen = population[nextCitizen++]!;
  const system: SourceSystem = entry.group === 'dfdg-soap' ? 'dfdg' : entry.group === 'education-soap' ? 'education' : entry.group === 'social-fhir' ? 'social' : 'health';
  let splice: { record?: string; reply?: string } = {};
  const adapter =
    system === 'dfdg'
      ? createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' }, fetch: splicingFetch('dfdg', () => splice) })
      : system === 'education'
        ? createEducationAdapter({ baseUrl: education.url, municipalityCode: '101', fetch: splicingFetch('education', () => splice) })
        : system === 'social'
          ? createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5_000 })
          : createHealthAdapter({ baseUrl: health.baseUrl, timeoutMs: 5_000 });
  const app = await startTestApp({ adapters: { [system]: adapter }, mappings: allMappings });
  const plan = await enrol(app.deps, citizen.cpr);
  const citizenId = membersOf(plan)[0]!.citizenId;
  await grantConsent(app.deps, { citizenId, source: system, categories: categoriesFor[system], explicitHealth: system === 'health' });

  let badRecordId: string | undefined;
  let restoreFaults = () => undefined as void;
  if (entry.form === 'record-document' || entry.form === 'reply') {
    // The case's record, about the synced citizen (unless the CPR is what is wrong with it).
    let xml = caseText(entry).replace(/^\uFEFF?<\?xml[^>]*\?>\s*/, '');
    if (entry.class !== 'invalid-cpr') for (const cpr of FIXTURE_CPRS) xml = xml.split(cpr).join(citizen.cpr);
    badRecordId = /<(?:\w+:)?(?:ActivityIdentifier|MyPlanIdentifier|UddannelsesplanId|HaendelseNummer)>([^<]+)</.exec(xml)?.[1]?.toLowerCase();
    // A DOCTYPE is only legal in front of the root: such a case replaces the whole reply.
    splice = entry.form === 'reply' || /<!DOCTYPE/i.test(xml) ? { reply: xml } : { record: xml };
  } else if (entry.form === 'resource') {
    const pulled = await adapter.pull({ citizenId, cpr: citizen.cpr });
    const owner = pulled.records.map((r) => (r.payload as { subject?: { reference?: string } }).subject?.reference).find(Boolean);
    expect(owner, 'the simulator knows the citizen').toMatch(/^Patient\//);
    const resource = JSON.parse(caseText(entry)) as Record<string, unknown>;
    badRecordId = `f3-${entry.id.split('/')[1]}`.slice(0, 60);
    const simulator = system === 'social' ? social : health;
    await simulator.repository.putRaw({ ...resource, id: badRecordId, subject: { reference: owner } } as never);
  } else {
    // A cut search page: the simulator's own malformed-reply fault, for this record type only.
    const simulator = system === 'social' ? social : health;
    simulator.setFaults({ malformedRate: 1, scope: { method: 'GET', resourceType: entry.recordType } });
    restoreFaults = () => simulator.setFaults({ malformedRate: 0, scope: undefined });
  }
  try {
    const result = await runSync(app.deps, { tenant: '101', adapter: system, trigger: 'f3', mappings: allMappings, feedStartMarginMs: 0 });
    return { app, plan, result, badRecordId, system, citizen };
  } finally {
    restoreFaults();
  }
}

const sourceElements = (plan: Plan, system: SourceSystem) =>
  [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === system));
const recordIdsOf = (plan: Plan) =>
  new Set([...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps].flatMap((e) => e.provenance.flatMap((p) => (p.kind === 'source' ? [p.recordId.toLowerCase()] : []))));

const e2eCases = loadCorpus().filter((c) => c.e2e);

describe('F3 end to end: bad input through a real sync', () => {
  it('covers every class of the corpus that a source can send', () => {
    expect(new Set(e2eCases.map((c) => c.class))).toEqual(new Set(['xml-bomb', 'external-entity', 'truncated', 'oversized', 'wrong-type', 'invalid-cpr', 'unknown-code', 'bad-date', 'mixed-encoding']));
  });

  it.each(e2eCases.map((c) => [c.id, c] as const))('%s', async (_id, entry) => {
    const { app, plan, result, badRecordId, system, citizen } = await syncWithBadInput(entry);
    try {
      expect(result.status, result.error).toBe('succeeded');
      expect(result.stats.pullErrors).toBe(0);
      const stored = (await app.deps.store.plans.get('101', plan.id))!;
      const it = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
      const listed = (await (await app.harness.request('/v1/sync/quarantine', { headers: { authorization: `Bearer ${it}` } })).json()) as {
        records: { adapter: string; recordType: string; recordId: string | null; reason: string; runId: string | null }[];
      };
      const ours = listed.records.filter((r) => r.runId === result.runId);
      expect(hasCprLike(JSON.stringify(listed)), 'the quarantine listing holds a CPR-like number').toBe(false);

      if (entry.expect.outcome === 'flagged') {
        // Merged, with the unknown code reported per mapping for IT staff.
        expect(ours).toEqual([]);
        expect(badRecordId && recordIdsOf(stored).has(badRecordId)).toBe(true);
        const runs = (await (await app.harness.request(`/v1/sync/runs?adapter=${system}`, { headers: { authorization: `Bearer ${it}` } })).json()) as { runs: { id: string; stats: { mappings: Record<string, { unknownCodes: Record<string, number> }> } }[] };
        const unknown = Object.values(runs.runs.find((r) => r.id === result.runId)!.stats.mappings).flatMap((m) => Object.keys(m.unknownCodes));
        expect(unknown.some((key) => key.endsWith(`|${(entry.expect as { code: string }).code}`))).toBe(true);
        return;
      }

      expect(result.stats.quarantined).toBeGreaterThanOrEqual(1);
      expect(ours.length, 'quarantined and listed for IT staff').toBeGreaterThanOrEqual(1);
      const reasons = ours.map((r) => r.reason);
      for (const reason of reasons) expect(readableReasonProblems(reason)).toEqual([]);
      const pattern = 'reason' in entry.expect ? new RegExp(entry.expect.reason, 'i') : /./;
      expect(reasons.some((reason) => pattern.test(reason)), `no reason matches ${pattern}`).toBe(true);
      // The payload kept for IT staff is personal data: encrypted at rest, and it opens to what was received.
      for (const row of (await app.deps.store.sync.quarantined('101')).filter((r) => r.runId === result.runId && r.raw !== null)) {
        expect(row.raw!.startsWith(app.deps.vault.currentPrefix)).toBe(true);
        expect(row.raw!.includes(citizen.cpr)).toBe(false);
        expect((await app.deps.vault.openPayload(row.raw!, { column: 'quarantine.raw', tenant: '101', id: row.id })).length).toBeGreaterThan(0);
      }
      // Nothing of the bad record reached the plan.
      if (badRecordId) expect(recordIdsOf(stored).has(badRecordId)).toBe(false);
      if (entry.form === 'reply' || /DOCTYPE|more than/i.test(reasons.join(' '))) {
        // The whole reply was refused: the plan is as it was.
        expect(stored.version).toBe(plan.version);
        expect(sourceElements(stored, system)).toEqual([]);
      } else {
        // One bad record among good ones: the good ones merged all the same.
        expect(sourceElements(stored, system).length).toBeGreaterThan(0);
      }
    } finally {
      await app.close();
    }
  });
});
