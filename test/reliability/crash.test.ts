/**
 * F1 crash test. The Node service (test/reliability/crash-service.ts: the app on an SQLite file,
 * relay running, real adapters and reverse mappings) is a child process; the four REAL sector
 * simulators (DFDG and Ungedatabasen over SOAP, social and health over FHIR) run here, in the
 * parent, with 10 % 5xx and 5 % malformed replies, and keep their effect records across kills. We send registrations, SIGKILL the service at random moments (≥ 20 times)
 * while it accepts registrations and delivers, and restart it. A client whose request died with
 * the process sends it again with the same Idempotency-Key, as a real client would.
 *
 * At the end: every accepted registration reached every target exactly once in effect, nothing is
 * stuck (no pending, retrying or dead rows), and no key got two different answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantPushConsents } from '../support/seed';
import { DFDG_ID_NAMESPACE, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { EDUCATION_ID_NAMESPACE, startEducationSimulator, type EducationSimulator } from '../../adapters/education';
import { FFB_SYSTEM } from '../../adapters/fhir/systems';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation, seededRandom } from '../../adapters/shared/population';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { deterministicUuid } from '../../adapters/soap/identifiers';
import { activationTypes } from '../../mappings/dfdg';
import { planActivityTypes } from '../../mappings/education';
import ffb from '../../mappings/social/codes/ffb.json' with { type: 'json' };
import type { SourceSystem } from '../../src/model';
import { signDevToken } from '../../src/security';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { outbox } from '../../src/store/schema';
import { TEST_JWT_SECRET } from '../support/harness';
import { startTestApp } from '../support/node-app';

const TARGETS: SourceSystem[] = ['dfdg', 'education', 'social', 'health'];
const KILLS = 22;
const dir = mkdtempSync(join(tmpdir(), 'enplan-crash-'));
const dbUrl = `file:${join(dir, 'crash.db')}`;
const random = seededRandom(20261123);
const population = generatePopulation(400, 2026);
let dfdg: DfdgSimulator;
let education: EducationSimulator;
let social: SectorSimulator;
let health: SectorSimulator;
const urls = () => ({ dfdg: dfdg.url, education: education.url, social: social.baseUrl, health: health.baseUrl });

beforeAll(async () => {
  const faults = { errorRate: 0.1, malformedRate: 0.05 };
  [dfdg, education, social, health] = await Promise.all([
    startDfdgSimulator({ population, faults }),
    startEducationSimulator({ population, faults }),
    startSocialSimulator({ population, faults }),
    startHealthSimulator({ population, faults }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([dfdg?.close(), education?.close(), social?.close(), health?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Non-duplicate writes the SOAP simulator logged for the transaction this idempotency key makes. */
async function soapEffects(sim: DfdgSimulator | EducationSimulator, namespace: string, operation: string, key: string): Promise<number> {
  const transactionId = await deterministicUuid(namespace, `transaction:${operation}:${key}`);
  return sim.writeLog().filter((w) => w.transactionId === transactionId && !w.duplicate).length;
}

function startService(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/crash-service.ts'], {
    env: { ...process.env, DB_URL: dbUrl, TARGETS: JSON.stringify(urls()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.resume();
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /READY (\d+)/.exec(buffer);
      if (match) resolve({ child, url: `http://127.0.0.1:${match[1]}` });
    });
    child.once('exit', (code) => reject(new Error(`the service exited (${code}) before it was ready`)));
  });
}

const kill = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

interface Pending {
  key: string;
  body: Record<string, unknown>;
}

describe('F1 crash test', () => {
  it(`delivers every accepted registration exactly once in effect across ${KILLS} SIGKILLs`, { timeout: 120_000 }, async () => {
    // Seed plans and consents on the file database, then hand it to the service.
    const seed = await startTestApp({ url: dbUrl });
    const caseworker = await seed.harness.token({ tenant: '101', roles: ['caseworker'] });
    const plans: { id: string; memberId: string }[] = [];
    const knownEverywhere = population.filter((c) => c.sectors.employment && c.sectors.education && c.sectors.social && c.sectors.health).slice(0, 8);
    expect(knownEverywhere).toHaveLength(8);
    for (const citizen of knownEverywhere) {
      const created = await seed.harness.request('/v1/plans', {
        method: 'POST',
        headers: { authorization: `Bearer ${caseworker}`, 'content-type': 'application/json' },
        body: JSON.stringify({ cpr: citizen.cpr, origin: 'offered' }),
      });
      const plan = (await created.json()) as { id: string; subject: { member: { memberId: string; citizenId: string } } };
      plans.push({ id: plan.id, memberId: plan.subject.member.memberId });
      await grantPushConsents(seed.deps, plan.subject.member.citizenId, ['goals', 'interventions']);
    }
    await seed.close();

    const token = await signDevToken(TEST_JWT_SECRET, { tenant: '101', roles: ['caseworker'] });
    const itStaff = await signDevToken(TEST_JWT_SECRET, { tenant: '101', roles: ['it-staff'] });
    const unconfirmed: Pending[] = [];
    const answers = new Map<string, { id: string; elementId: string; deliveries: { target: SourceSystem; outboxId: string }[] }>();
    let made = 0;
    const newRegistration = (): Pending => {
      const plan = plans[Math.floor(random() * plans.length)]!;
      const n = made++;
      const intervention = (extra: Record<string, unknown>) => ({
        legalBasis: 'LAB § 32',
        title: `Indsats ${n}`,
        responsibleUnit: 'Enhed',
        contact: { name: 'K' },
        period: { start: '2026-12-01' },
        memberId: plan.memberId,
        ...extra,
      });
      // One target each: DFDG (activity), social (CarePlan), health (Goal), Ungedatabasen (plan activity).
      const bodies = [
        { kind: 'intervention.added', intervention: intervention({ sector: 'employment', type: { system: activationTypes.system, code: activationTypes.codes[0]!.code } }) },
        { kind: 'intervention.added', intervention: intervention({ sector: 'social', legalBasis: 'SEL § 85', type: { system: FFB_SYSTEM, code: ffb.concepts[0]!.code } }) },
        { kind: 'goal.added', goal: { level: 'sub', title: `Mål ${n}`, sector: 'health' } },
        { kind: 'intervention.added', intervention: intervention({ sector: 'education', legalBasis: 'KUI § 2 a', type: { system: planActivityTypes.system, code: planActivityTypes.codes[0]!.code } }) },
      ];
      const body = { planId: plan.id, ...bodies[n % 4]! };
      return { key: `crash-${n}-${crypto.randomUUID()}`, body };
    };

    async function send(url: string, pending: Pending): Promise<boolean> {
      try {
        const response = await fetch(`${url}/v1/registrations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': pending.key },
          body: JSON.stringify(pending.body),
        });
        const body = (await response.json()) as { id: string; elementId: string; deliveries: { target: SourceSystem; outboxId: string }[]; type?: string };
        if (response.status === 202) {
          const first = answers.get(pending.key);
          if (first) expect(body.id).toBe(first.id);
          else answers.set(pending.key, body);
          return true;
        }
        // Only a plan that kept changing under us may be sent again; anything else is a bug.
        expect(body.type).toBe('/problems/version-conflict');
        return false;
      } catch {
        return false; // the process died under the request
      }
    }

    let kills = 0;
    let interrupted = 0;
    while (kills < KILLS) {
      const { child, url } = await startService();
      const batch = [...unconfirmed.splice(0), ...Array.from({ length: 6 }, newRegistration)];
      const sending = batch.map(async (p) => {
        if (!(await send(url, p))) unconfirmed.push(p);
      });
      // Kill at a random moment: during the requests, or while the relay is delivering.
      await new Promise((r) => setTimeout(r, 20 + Math.floor(random() * 400)));
      await kill(child);
      kills++;
      await Promise.all(sending);
      interrupted += unconfirmed.length;
    }

    // Restart once more and let it finish: resend what was never confirmed, then wait until nothing is live.
    const { child, url } = await startService();
    try {
      for (let round = 0; unconfirmed.length > 0 && round < 20; round++) {
        const batch = unconfirmed.splice(0);
        for (const p of batch) if (!(await send(url, p))) unconfirmed.push(p);
      }
      expect(unconfirmed).toEqual([]);
      let live = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 300 && live > 0; i++) {
        const counts = (await (await fetch(`${url}/v1/outbox?limit=1`, { headers: { authorization: `Bearer ${itStaff}` } })).json()) as { counts: Record<string, number> };
        live = (counts.counts.pending ?? 0) + (counts.counts.retrying ?? 0);
        if (live > 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(live).toBe(0);
    } finally {
      await kill(child);
    }

    const database = await openLibsqlDatabase(dbUrl);
    try {
      const rows = await database.db.select().from(outbox);
      expect(rows.every((r) => r.status === 'delivered')).toBe(true);
      expect(answers.size).toBe(made);
      const expected = [...answers.values()].flatMap((a) => a.deliveries.map((d) => ({ ...d, elementId: a.elementId })));
      expect(rows.map((r) => r.id).sort()).toEqual(expected.map((d) => d.outboxId).sort());
      expect(new Set(expected.map((d) => d.target))).toEqual(new Set(TARGETS));
      for (const d of expected) {
        if (d.target === 'dfdg') {
          expect(await soapEffects(dfdg, DFDG_ID_NAMESPACE, 'activity.upsert', d.outboxId)).toBe(1);
          expect(dfdg.effectCounts()[d.elementId]).toBe(1);
        } else if (d.target === 'education') expect(await soapEffects(education, EDUCATION_ID_NAMESPACE, 'education-plan.update', d.outboxId)).toBe(1);
        else expect((d.target === 'social' ? social : health).effects(d.outboxId)).toBe(1);
      }
      expect(kills).toBeGreaterThanOrEqual(20);
      const replays = dfdg.writeLog().filter((w) => w.duplicate).length + education.writeLog().filter((w) => w.duplicate).length;
      console.info(`F1: ${kills} kills, ${made} registrations, ${interrupted} requests cut by a kill and sent again, ${expected.length} deliveries, ${replays} replayed SOAP writes answered as duplicates`);
      expect(made).toBeGreaterThanOrEqual(KILLS * 6);
    } finally {
      await database.close();
    }
  });
});
