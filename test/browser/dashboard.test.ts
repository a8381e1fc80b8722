/**
 * The IT staff dashboard in real Chromium (Debian's, driven by playwright-core) against the real
 * Node server, with the DFDG simulator behind it over HTTP: sign in, read the page, run a sync
 * from the button, see the merged records, read the record of processing, sign out.
 */
import { serve } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { allMappings } from '../../src/sync/all-mappings';
import { runRetention } from '../../src/sync/retention';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

let browser: Browser;
let simulator: DfdgSimulator;
let app: Awaited<ReturnType<typeof startTestApp>>;
let server: ReturnType<typeof serve>;
let baseUrl: string;

beforeAll(async () => {
  const population = generatePopulation(20, 77).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
  simulator = await startDfdgSimulator({ population, port: 0 });
  app = await startTestApp({
    adapters: { dfdg: createDfdgAdapter({ baseUrl: simulator.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) },
    mappings: allMappings,
  });
  for (const citizen of population.slice(0, 3)) {
    const plan = await enrol(app.deps, citizen.cpr);
    const citizenId = plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '';
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['employment', 'goals', 'interventions', 'plan-core'] });
  }
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await simulator?.close();
  await app?.close();
});

describe('dashboard in Chromium', () => {
  it('refuses a token without the it-staff role', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/dashboard`);
    await page.fill('#token', await app.harness.token({ tenant: '101', roles: ['caseworker'] }));
    await page.click('button[type=submit]');
    expect(await page.textContent('#error')).toContain('it-staff');
    await page.close();
  });

  it('signs in, runs a sync from the button and shows the result, then signs out', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${baseUrl}/dashboard`);
    await page.fill('#token', await app.harness.token({ tenant: '101', roles: ['it-staff'] }));
    await page.click('button[type=submit]');
    await page.waitForSelector('#adapters');
    expect(await page.textContent('#plans')).toContain('active');
    const row = page.locator('tr[data-adapter=dfdg]');
    expect(await row.textContent()).toContain('—');
    await row.locator('button').click();
    await page.waitForSelector('#notice');
    expect(await page.textContent('#notice')).toContain('Sync of dfdg: succeeded');
    const cells = await page.locator('tr[data-adapter=dfdg] td.num').allTextContents();
    expect(Number(cells[0])).toBeGreaterThan(0); // records read
    expect(Number(cells[1])).toBeGreaterThan(0); // merged
    expect(await page.locator('#mappings tr[data-mapping]').count()).toBeGreaterThan(0);
    // The run just made heads the recent runs, with who started it and what it did.
    const latestRun = await page.locator('#runs tr[data-run]').first().locator('td').allTextContents();
    expect(latestRun.slice(1, 4)).toEqual(['dfdg', expect.stringMatching(/^dashboard:/), 'succeeded']);
    expect(latestRun[4]).toMatch(/^\d+(\.\d)? s$/);
    expect(Number(latestRun[7])).toBe(Number(cells[1])); // merged, as the adapter row says
    // Last night's retention (R16): when it ran and how it ended, from its own record.
    await runRetention(app.deps);
    await page.reload();
    await page.waitForSelector('#retention-last-run');
    expect(await page.textContent('#retention-last-run')).toMatch(/^Last run \d{4}-\d\d-\d\d \d\d:\d\d, \d+\.\d s: succeeded$/);
    expect(await page.textContent('#retention-runs')).toContain('Nothing was due.');
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
    // The record of processing (R16), from the header: the three grants to DFDG in force, the system read.
    await page.click('#processing-record');
    await page.waitForSelector('#flows-consent');
    const flows = await page.locator('#flows-consent tbody tr').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)));
    expect(flows).toContainEqual(['dfdg', 'enplan', 'employment', '3', '3']);
    expect(await page.locator('tr[data-source=dfdg] td').nth(1).textContent()).toBe('yes');
    expect(await page.locator('tr[data-source=health] td').nth(1).textContent()).toBe('no');
    expect(await page.textContent('#registrations')).toContain('never');
    // The DPO's erasure before the retention period is in the record too (decision 0028).
    expect(await page.textContent('#retention')).toContain('POST /v1/data-subject/erasure');
    await page.screenshot({ path: 'test-results/processing-record.png', fullPage: true });
    await page.click('text=← Dashboard');
    await page.waitForSelector('#adapters');
    await page.click('header button');
    await page.waitForSelector('#token');
    await page.close();
  });

  it('a data protection officer lands on the record of processing, reaches the log follow-up, and signs out from either page', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    const signIn = async () => {
      await page.goto(`${baseUrl}/dashboard`);
      await page.fill('#token', await app.harness.token({ tenant: '101', roles: ['dpo'] }));
      await page.click('button[type=submit]');
      await page.waitForSelector('#flows-consent');
    };
    await signIn();
    // The dashboard is IT staff's: no way back to a page that would only send the DPO here again.
    expect(await page.locator('text=← Dashboard').count()).toBe(0);
    await page.click('#reads-from-outside-link');
    await page.waitForSelector('#reads-from-outside');
    await page.click('text=← Record of processing');
    await page.waitForSelector('#flows-consent');
    await page.click('nav.page-nav button');
    await page.waitForSelector('#token');
    // Signed out: the record is not shown again without a token.
    await page.goto(`${baseUrl}/dashboard/processing-record`);
    await page.waitForSelector('#token');
    await signIn();
    await page.click('#reads-from-outside-link');
    await page.waitForSelector('#reads-from-outside');
    await page.click('nav.page-nav button');
    await page.waitForSelector('#token');
    await page.close();
  });
});

