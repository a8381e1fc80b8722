/**
 * The events of one education course are records of one system describing one element: the
 * course's status is that of its latest event, whatever order the source lists them in, and none
 * of them is flagged as a conflict (a conflict is two different writers, not one system's history).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullManyOptions, PullSubject } from '../../adapters/adapter';
import { createEducationAdapter, startEducationSimulator, type EducationSimulator } from '../../adapters/education';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(60, 9090).map((c) => ({ ...c, sectors: { employment: false, education: true, social: false, health: false } }));
let education: EducationSimulator;
beforeAll(async () => {
  education = await startEducationSimulator({ population });
});
afterAll(() => education?.close());

/** Syncs the population from the education system, its answers' records listed as `order` says; returns each plan's courses. */
async function coursesAfterSync(order: 'as-listed' | 'reversed') {
  const real = createEducationAdapter({ baseUrl: education.url, municipalityCode: '101', timeoutMs: 5_000 });
  const pullMany = async (subjects: readonly PullSubject[], options?: PullManyOptions) => {
    const results = await real.pullMany!(subjects, options);
    if (order === 'reversed') for (const result of results.values()) result.records.reverse();
    return results;
  };
  const app = await startTestApp({ adapters: { education: { ...real, pullMany } }, mappings: allMappings });
  const courses: Record<string, { status: string; events: number }> = {};
  const plans = [];
  for (const citizen of population) {
    const plan = await enrol(app.deps, citizen.cpr);
    await grantConsent(app.deps, { citizenId: membersOf(plan)[0]!.citizenId, source: 'education', categories: ['plan-core', 'education', 'goals', 'interventions'] });
    plans.push(plan);
  }
  const result = await runSync(app.deps, { tenant: '101', adapter: 'education', trigger: 'test', mappings: allMappings });
  expect(result.status).toBe('succeeded');
  for (const { id } of plans) {
    const plan = (await app.deps.store.plans.get('101', id))!;
    expect(plan.conflicts).toEqual([]);
    for (const course of plan.interventions.filter((i) => i.id.startsWith('education:course:')))
      courses[course.id] = { status: course.status, events: course.provenance.length };
  }
  await app.close();
  return { courses, conflicts: result.stats.conflicts };
}

describe('records of one system describing one element', () => {
  it('leave the element as the latest record says, in whatever order they come, with no conflict', async () => {
    const listed = await coursesAfterSync('as-listed');
    const reversed = await coursesAfterSync('reversed');
    // The population has courses with several events (else this test would prove nothing).
    expect(Object.values(listed.courses).filter((c) => c.events > 1).length).toBeGreaterThan(3);
    expect([listed.conflicts, reversed.conflicts]).toEqual([0, 0]);
    expect(reversed.courses).toEqual(listed.courses);
  });
});
