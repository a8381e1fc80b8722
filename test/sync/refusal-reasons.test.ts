/**
 * A record refused for more than one reason — a social record whose plan categories rest on a
 * revoked grant, and whose health part no grant ever covered — is logged one row per reason, so the
 * citizen is told of each category why (R13): health was never consented to, not "you revoked".
 * Rows logged before, with the reasons joined, are told with every reason they hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePopulation } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { membersOf } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { describeDataFlows, refusalInDanish } from '../../src/views';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

// Citizens of 55 and over: the social system holds home care (FSIII) for about half of them, some of it health-coded.
const population = generatePopulation(200, 6262)
  .filter((c) => c.birthDate <= '1970-01-01')
  .slice(0, 12)
  .map((c) => ({ ...c, sectors: { employment: false, education: false, social: true, health: false } }));
let social: SectorSimulator;
beforeAll(async () => {
  social = await startSocialSimulator({ population, seed: 2026, port: 0 });
});
afterAll(() => social?.close());

describe('a record refused for two reasons', () => {
  it('is logged one row per reason, and the citizen is told each category’s own', async () => {
    const app = await startTestApp({ adapters: { social: createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5000 }) }, mappings: allMappings });
    const citizens: { citizenId: string; grant: Awaited<ReturnType<typeof grantConsent>> }[] = [];
    for (const person of population) {
      const citizenId = membersOf(await enrol(app.deps, person.cpr))[0]!.citizenId;
      // Everything but health, then revoked.
      const grant = await grantConsent(app.deps, { citizenId, source: 'social', categories: ['plan-core', 'social', 'goals', 'interventions'] });
      await app.deps.store.consents.replace({ kind: 'grant', ...grant, revokedAt: '2026-02-01T10:00:00.000Z' });
      citizens.push({ citizenId, grant });
    }
    expect((await runSync(app.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings: allMappings })).status).toBe('succeeded');

    let withBoth = 0;
    for (const { citizenId, grant } of citizens) {
      const rows = (await app.deps.store.audit.list('101', { citizenId })).filter((r) => r.action === 'data.refused');
      const details = rows.map((r) => r.detail as { reason: string; categories: string[] });
      // Each row one reason: health for want of any grant, the rest for the revocation.
      for (const { reason, categories } of details) {
        if (categories.includes('health')) expect(reason).toBe('no consent covers health data from social to enplan');
        else expect(reason).toBe('the consent was revoked');
      }
      if (details.length < 2) continue;
      withBoth++;
      const told = describeDataFlows(citizenId, rows, [{ ...grant, revokedAt: '2026-02-01T10:00:00.000Z' }], []).flows.filter((f) => f.kind === 'refused');
      const aboutHealth = told.find((f) => f.categories.includes('health'))!;
      expect(aboutHealth.text).toContain('der ikke er givet samtykke til det');
      expect(aboutHealth.text).not.toContain('trukket');
      expect(told.find((f) => !f.categories.includes('health'))!.text).toContain('du har trukket dit samtykke tilbage');
    }
    // The synthetic population has citizens with both kinds of data (else this test would prove nothing).
    expect(withBoth).toBeGreaterThan(0);
    await app.close();
  });

  it('logged before with its reasons joined, is told with each of them once', () => {
    expect(refusalInDanish('no consent covers health data from social to enplan; the consent was revoked')).toBe('der ikke er givet samtykke til det, og du har trukket dit samtykke tilbage');
    expect(refusalInDanish('the consent was revoked')).toBe('du har trukket dit samtykke tilbage');
  });
});
