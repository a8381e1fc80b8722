/** The plan API suite on Node, in-process, on libSQL. */
import { afterAll, beforeAll } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { plans } from '../../src/store/schema';
import { testCpr } from '../support/cpr';
import type { ApiHarness } from '../support/harness';
import { startTestApp } from '../support/node-app';
import { definePlanApiSuite } from './plans-suite';

let app: Awaited<ReturnType<typeof startTestApp>>;
let harness: ApiHarness;
beforeAll(async () => {
  app = await startTestApp();
  harness = app.harness;
});
afterAll(() => app.close());

definePlanApiSuite({
  harness: () => harness,
  cpr: testCpr,
  countPlans: async (tenant) => (await app.database.db.select({ n: count() }).from(plans).where(eq(plans.tenant, tenant)))[0]!.n,
});
