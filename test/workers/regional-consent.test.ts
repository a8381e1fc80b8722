/**
 * The region's own permit to share, on D1 (migration 0025): a scheduled sync round against the
 * regional health simulator (a Node server on loopback) remembers a permit's last day and forgets
 * an end the region no longer gives; once the day has passed, retention on its cron takes out what
 * flowed on the permit and ends it (src/consent/service.ts `handleLapsedRegionalConsents`), keeping the
 * ended permit as a refusal the subscription gate weighs (migration 0033).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { membersOf, type Plan } from '../../src/model';
import { buildFor, scheduledRound, type WorkerEnv } from '../../src/runtime/worker';
import { enrol, grantConsent } from '../support/seed';

const db = () => (env as unknown as { DB: D1Database }).DB;
const elementsOf = (plan: Plan) => [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.situationNotes, ...plan.careTeams];

describe('the region’s permit with a last day, in workerd on D1', () => {
  it('a sync round remembers its last day (and forgets an end no longer given); retention on its cron ends it after that day', async () => {
    const built = await buildFor({ ...(env as unknown as WorkerEnv), HEALTH_FHIR_URL: env.HEALTH_SIMULATOR_URL, DFDG_URL: undefined, JOBS: undefined });
    let now = Date.now();
    built.deps.clock = { now: () => new Date(now) };
    const [ending, open] = JSON.parse(env.HEALTH_SIMULATOR_CITIZENS) as { cpr: string; consentId: string; lastDay?: string }[];
    const plans: Plan[] = [];
    for (const citizen of [ending!, open!]) {
      const plan = await enrol(built.deps, citizen.cpr);
      await grantConsent(built.deps, { citizenId: membersOf(plan)[0]!.citizenId, source: 'health', categories: ['health'], explicitHealth: true });
      plans.push(plan);
    }
    const [endingCitizen, openCitizen] = plans.map((plan) => membersOf(plan)[0]!.citizenId);
    // An end remembered from an earlier permit of the second citizen's: the region gives none now.
    await db().prepare(`insert into regional_consent_ends (tenant, citizen_id, source, record_id, record_version, last_day, recorded_at) values ('101', ?, 'health', ?, '1', '2026-12-31', ?)`).bind(openCitizen, open!.consentId, new Date(now).toISOString()).run();
    const ends = async () => (await db().prepare(`select citizen_id as citizenId, record_id as recordId, last_day as lastDay from regional_consent_ends where tenant = '101' order by last_day`).all<{ citizenId: string; recordId: string; lastDay: string }>()).results;
    const healthIdsOf = async (plan: Plan) => elementsOf((await built.deps.store.plans.get('101', plan.id))!).filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'health')).map((e) => e.id);

    const round = await scheduledRound(built, 'cron:*/5 * * * *', '*/5 * * * *');
    expect(round.runs).toEqual([expect.objectContaining({ adapter: 'health', status: 'succeeded' })]);
    expect(await ends()).toEqual([{ citizenId: endingCitizen, recordId: ending!.consentId, lastDay: ending!.lastDay }]);
    const flowed = await healthIdsOf(plans[0]!);
    expect(flowed.length).toBeGreaterThan(0);

    // Its last day has not passed: the nightly round leaves it.
    const retention = async () => (await scheduledRound(built, 'cron:30 2 * * *', '30 2 * * *')).retention;
    expect(await retention()).toMatchObject({ regionalConsentsLapsed: 0, lapseFailures: 0 });
    expect(await healthIdsOf(plans[0]!)).toEqual(flowed);

    // Three days on (its last day is tomorrow), with nothing changed at the region.
    now += 3 * 86_400_000;
    expect(await retention()).toMatchObject({ regionalConsentsLapsed: 1, plansChangedByLapse: 1, lapseFailures: 0 });
    expect(await healthIdsOf(plans[0]!)).toEqual([]);
    expect(await healthIdsOf(plans[1]!)).not.toEqual([]);
    expect(await ends()).toEqual([]);
    const marks = await db().prepare(`select count(*) as n from applied_records where tenant = '101' and source = 'health' and citizen_id = ? and complete = 1`).bind(endingCitizen).first<{ n: number }>();
    expect(marks!.n).toBe(0);
    const lapsed = await db().prepare(`select count(*) as n from audit_log where action = 'consent.lapsed' and target_id = ?`).bind(ending!.consentId).first<{ n: number }>();
    expect(lapsed!.n).toBe(1);
    // The ended permit is a refusal now, kept for the subscription gate (migration 0033), and the
    // fan-out's read of members and their sources' say runs on D1.
    const refusals = await db().prepare(`select citizen_id as citizenId, reason from regional_refusals where tenant = '101'`).all<{ citizenId: string; reason: string }>();
    expect(refusals.results).toEqual([{ citizenId: endingCitizen, reason: `the region's consent to share health data with the municipality ended on ${ending!.lastDay}` }]);
    const members = await built.deps.store.subscriptions.membersWithConsents([plans[0]!.id]);
    expect(members[0]!.sourceSays).toEqual({ refusals: [{ source: 'health', permitsFrom: null }], permitEnds: [] });
    // Handled once.
    expect(await retention()).toMatchObject({ regionalConsentsLapsed: 0, plansChangedByLapse: 0 });

    // A permit the region dated to start later, whose first day has come: the nightly round lets it take
    // effect — the refusal goes, the citizen is read in full next time, the start is audited once.
    const firstDay = new Date(now - 86_400_000).toISOString().slice(0, 10);
    await db().prepare(`insert into regional_refusals (tenant, citizen_id, source, record_id, record_version, reason, permits_from, recorded_at) values ('101', ?, 'health', ?, '2', 'starts later', ?, ?)`).bind(openCitizen, open!.consentId, firstDay, new Date(now).toISOString()).run();
    const pulledOf = async () => (await db().prepare(`select count(*) as n from pulled_citizens where tenant = '101' and adapter = 'health' and citizen_id = ?`).bind(openCitizen).first<{ n: number }>())!.n;
    expect(await pulledOf()).toBe(1);
    expect(await retention()).toMatchObject({ regionalPermitsStarted: 1, startFailures: 0 });
    const left = await db().prepare(`select count(*) as n from regional_refusals where tenant = '101' and citizen_id = ?`).bind(openCitizen).first<{ n: number }>();
    expect(left!.n).toBe(0);
    expect(await pulledOf()).toBe(0);
    const started = await db().prepare(`select count(*) as n from audit_log where action = 'consent.took-effect' and target_id = ?`).bind(open!.consentId).first<{ n: number }>();
    expect(started!.n).toBe(1);
    expect(await retention()).toMatchObject({ regionalPermitsStarted: 0 });
  });
});
