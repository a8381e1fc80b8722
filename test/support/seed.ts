/** Seeding helpers for tests that need enrolled citizens with consent. */
import type { AppDeps } from '../../src/api/context';
import { ConsentGrant, type DataCategory, type SourceSystem } from '../../src/model';
import { planService } from '../../src/plans/service';
import type { Principal } from '../../src/security';

export const caseworkerOf = (tenant = '101'): Principal => ({ sub: 'seed-caseworker', tenant, roles: ['caseworker'] });

/** Creates an active plan for the citizen and returns it. */
export async function enrol(deps: AppDeps, cpr: string, tenant = '101') {
  const service = planService(deps);
  const principal = caseworkerOf(tenant);
  const plan = await service.create(principal, { cpr, origin: 'offered', role: 'adult', replaces: [], municipalities: [] });
  await service.changeStatus(principal, plan.id, { status: 'accepted' });
  return (await service.changeStatus(principal, plan.id, { status: 'active' }))!;
}

/** Records a consent grant straight in the store (the consents API is tested on its own). */
export async function grantConsent(
  deps: AppDeps,
  options: {
    tenant?: string;
    citizenId: string;
    source: SourceSystem | 'enplan';
    recipient?: string;
    categories: DataCategory[];
    explicitHealth?: boolean;
    validTo?: string;
    /** Who gave it; by default the citizen themself. */
    grantedBy?: { citizenId: string; capacity: 'self' | 'custody-holder' | 'guardian' };
  },
) {
  const grant = ConsentGrant.parse({
    id: crypto.randomUUID(),
    tenant: options.tenant ?? '101',
    citizenId: options.citizenId,
    grantedBy: options.grantedBy ?? { citizenId: options.citizenId, capacity: 'self' },
    source: options.source,
    recipient: options.recipient ?? 'enplan',
    categories: options.categories,
    explicitHealth: options.explicitHealth ?? options.categories.includes('health'),
    purpose: 'Koordinering af indsatser i Én plan',
    validFrom: '2026-01-01',
    validTo: options.validTo,
    signed: { method: 'mitid', documentRef: 'test-doc', textVersion: 'samtykke-v1', language: 'da' },
    createdAt: new Date().toISOString(),
  });
  await deps.store.consents.insert({ kind: 'grant', ...grant });
  return grant;
}

/** Consent for registrations to reach every push target: these categories to the three sectors, health explicitly. */
export async function grantPushConsents(deps: AppDeps, citizenId: string, categories: DataCategory[], tenant = '101') {
  for (const recipient of ['employment', 'education', 'social'] as const) await grantConsent(deps, { tenant, citizenId, source: 'enplan', recipient, categories });
  await grantConsent(deps, { tenant, citizenId, source: 'enplan', recipient: 'health', categories: ['health'], explicitHealth: true });
}
