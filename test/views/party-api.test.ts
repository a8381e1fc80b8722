/** The consent, sharing and citizen API suite on Node, in-process, on libSQL. */
import { afterAll, beforeAll } from 'vitest';
import { testCpr } from '../support/cpr';
import type { ApiHarness } from '../support/harness';
import { startTestApp } from '../support/node-app';
import { definePartyApiSuite } from './party-api-suite';

let app: Awaited<ReturnType<typeof startTestApp>>;
let harness: ApiHarness;
beforeAll(async () => {
  app = await startTestApp();
  harness = app.harness;
});
afterAll(() => app.close());

definePartyApiSuite({ harness: () => harness, cpr: testCpr });
