/**
 * Which plans a subscription's system may hear of, as the one consent policy decides it
 * (src/subscriptions/consent-gate.ts), and that the fan-out's read of a page's plan members and
 * their consents goes by key and index (it runs for every page of events).
 */
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentGrant, LegalBasisRecord, type DataCategory } from '../../src/model';
import { migrationsFolder } from '../../src/store/libsql';
import * as schema from '../../src/store/schema';
import { subscriptionRepository } from '../../src/store/subscriptions';
import { departmentsServedBy, systemHasPartIn, type MemberConsents } from '../../src/subscriptions/consent-gate';

const at = new Date('2026-11-24T10:00:00Z');
const adult = { citizenId: 'c-adult', birthDate: '1985-06-15' };
const child = { citizenId: 'c-child', birthDate: '2015-03-01' };

const grant = (citizenId: string, fields: { source: string; recipient?: string; categories: DataCategory[]; capacity?: 'self' | 'custody-holder'; explicitHealth?: boolean; revokedAt?: string; validTo?: string }) =>
  ConsentGrant.parse({
    id: crypto.randomUUID(),
    tenant: '101',
    citizenId,
    grantedBy: { citizenId: fields.capacity === 'custody-holder' ? 'c-parent' : citizenId, capacity: fields.capacity ?? 'self' },
    source: fields.source,
    recipient: fields.recipient ?? 'enplan',
    categories: fields.categories,
    explicitHealth: fields.explicitHealth ?? false,
    purpose: 'Koordinering af indsatser i Én plan',
    validFrom: '2026-01-01',
    validTo: fields.validTo,
    signed: { method: 'mitid', documentRef: 'doc', textVersion: 'samtykke-v1', language: 'da' },
    createdAt: '2026-01-01T00:00:00Z',
    revokedAt: fields.revokedAt,
  });
const member = (who: { citizenId: string; birthDate: string }, grants: ConsentGrant[], legalBases: LegalBasisRecord[] = []): MemberConsents => ({ ...who, grants, legalBases });

describe('the systems a plan is shared with', () => {
  it('a system serves the departments the routing table sends its registrations for', () => {
    expect(departmentsServedBy('social')).toEqual(['social', 'children']);
    expect(departmentsServedBy('dfdg')).toEqual(['employment', 'integration']);
    expect(departmentsServedBy('education')).toEqual(['education']);
    expect(departmentsServedBy('health')).toEqual(['health']);
  });

  it('a grant in force either way counts; a revoked, lapsed or other system’s grant does not', () => {
    expect(systemHasPartIn('social', [member(adult, [grant(adult.citizenId, { source: 'social', categories: ['goals'] })])], at)).toBe(true);
    // Into the plan for one department only, from the social system: its data is in the plan all the same.
    expect(systemHasPartIn('social', [member(adult, [grant(adult.citizenId, { source: 'social', recipient: 'employment', categories: ['social'] })])], at)).toBe(true);
    expect(systemHasPartIn('social', [member(adult, [grant(adult.citizenId, { source: 'enplan', recipient: 'social', categories: ['interventions'] })])], at)).toBe(true);
    expect(systemHasPartIn('dfdg', [member(adult, [grant(adult.citizenId, { source: 'enplan', recipient: 'integration', categories: ['goals'] })])], at)).toBe(true);
    expect(systemHasPartIn('social', [member(adult, [grant(adult.citizenId, { source: 'social', categories: ['goals'], revokedAt: '2026-11-24T09:00:00Z' })])], at)).toBe(false);
    expect(systemHasPartIn('social', [member(adult, [grant(adult.citizenId, { source: 'social', categories: ['goals'], validTo: '2026-10-31' })])], at)).toBe(false);
    expect(systemHasPartIn('social', [member(adult, [grant(adult.citizenId, { source: 'dfdg', categories: ['goals'] }), grant(adult.citizenId, { source: 'enplan', recipient: 'employment', categories: ['goals'] })])], at)).toBe(false);
    expect(systemHasPartIn('social', [member(adult, [])], at)).toBe(false);
    expect(systemHasPartIn('social', [], at)).toBe(false);
  });

  it('asks the policy as every flow does: a child’s needs the custody holder’s consent, health an explicit one; a legal basis counts', () => {
    expect(systemHasPartIn('social', [member(child, [grant(child.citizenId, { source: 'social', categories: ['goals'] })])], at)).toBe(false);
    expect(systemHasPartIn('social', [member(child, [grant(child.citizenId, { source: 'social', categories: ['goals'], capacity: 'custody-holder' })])], at)).toBe(true);
    // Another member of a family plan sharing with the system is enough.
    expect(systemHasPartIn('social', [member(child, []), member(adult, [grant(adult.citizenId, { source: 'social', categories: ['goals'] })])], at)).toBe(true);
    const healthWithoutExplicit = { ...grant(adult.citizenId, { source: 'health', categories: ['goals'] }), categories: ['health' as const] };
    expect(systemHasPartIn('health', [member(adult, [healthWithoutExplicit])], at)).toBe(false);
    expect(systemHasPartIn('health', [member(adult, [grant(adult.citizenId, { source: 'health', categories: ['health'], explicitHealth: true })])], at)).toBe(true);
    const basis = LegalBasisRecord.parse({ id: crypto.randomUUID(), tenant: '101', citizenId: child.citizenId, source: 'enplan', recipient: 'children', categories: ['plan-core'], basis: 'Barnets lov § 133', recordedBy: 'caseworker:cw-1', recordedAt: '2026-11-01T00:00:00Z', citizenInformed: true });
    expect(systemHasPartIn('social', [member(child, [], [basis])], at)).toBe(true);
    expect(systemHasPartIn('social', [member(child, [], [{ ...basis, endedAt: '2026-11-20T00:00:00Z' }])], at)).toBe(false);
  });
});

describe('the source’s own say (the region’s Consent, as the sync last read it)', () => {
  const healthGrant = () => grant(adult.citizenId, { source: 'health', categories: ['health'], explicitHealth: true });
  const says = (refusals: { source: string; permitsFrom: string | null }[], permitEnds: { source: string; lastDay: string }[] = []) => ({ refusals, permitEnds });
  const withSays = (grants: ConsentGrant[], sourceSays: ReturnType<typeof says>, legalBases: LegalBasisRecord[] = []): MemberConsents => ({ ...member(adult, grants, legalBases), sourceSays });

  it('a refusal at the source leaves the member’s grants for it carrying nothing in, as the sync gate decides', () => {
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([]))], at)).toBe(true);
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([{ source: 'health', permitsFrom: null }]))], at)).toBe(false);
    // Another source's refusal is not this one's.
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([{ source: 'social', permitsFrom: null }]))], at)).toBe(true);
    // Nor does it touch the flow out of the plan to the department the system serves: that is not the region's to refuse.
    const outflow = grant(adult.citizenId, { source: 'enplan', recipient: 'health', categories: ['goals'] });
    expect(systemHasPartIn('health', [withSays([healthGrant(), outflow], says([{ source: 'health', permitsFrom: null }]))], at)).toBe(true);
    // A legal basis other than consent does not rest on the region's say.
    const basis = LegalBasisRecord.parse({ id: crypto.randomUUID(), tenant: '101', citizenId: adult.citizenId, source: 'health', recipient: 'enplan', categories: ['health'], basis: 'Sundhedsloven § 43', recordedBy: 'caseworker:cw-1', recordedAt: '2026-11-01T00:00:00Z', citizenInformed: true });
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([{ source: 'health', permitsFrom: null }]), [basis])], at)).toBe(true);
    // In a family plan, each member's say is their own: another member whose region permits still shares it.
    const partner = { citizenId: 'c-partner', birthDate: '1987-02-02' };
    const partnersGrant = grant(partner.citizenId, { source: 'health', categories: ['health'], explicitHealth: true });
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([{ source: 'health', permitsFrom: null }])), { ...member(partner, [partnersGrant]), sourceSays: says([]) }], at)).toBe(true);
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([{ source: 'health', permitsFrom: null }])), { ...member(partner, [partnersGrant]), sourceSays: says([{ source: 'health', permitsFrom: null }]) }], at)).toBe(false);
  });

  it('a permit not started yet refuses until its first day (Danish calendar); a permit’s last day past refuses before the nightly job has ended it', () => {
    const notYet = says([{ source: 'health', permitsFrom: '2026-11-25' }]);
    expect(systemHasPartIn('health', [withSays([healthGrant()], notYet)], at)).toBe(false);
    expect(systemHasPartIn('health', [withSays([healthGrant()], notYet)], new Date('2026-11-24T23:00:00Z'))).toBe(true); // 00:00 in Denmark
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([], [{ source: 'health', lastDay: '2026-11-24' }]))], at)).toBe(true);
    expect(systemHasPartIn('health', [withSays([healthGrant()], says([], [{ source: 'health', lastDay: '2026-11-23' }]))], at)).toBe(false);
  });
});

describe('the fan-out’s read of a page’s plan members and consents', () => {
  const client = createClient({ url: ':memory:' });
  const db = drizzle(client, { schema });
  beforeAll(() => migrate(db, { migrationsFolder }));
  afterAll(() => client.close());

  it('finds members by the plan’s key, citizens by id and consents by the citizen index: no table is walked', async () => {
    const { sql, params } = subscriptionRepository({ db } as never).membersWithConsentsQuery(['p-1', 'p-2']).toSQL();
    const plan = (await client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: params as never[] })).rows.map((r) => String(r.detail)).join(' | ');
    expect(plan).toMatch(/SEARCH plan_members USING INDEX sqlite_autoindex_plan_members_1 \(plan_id=\?\)/);
    expect(plan).toMatch(/SEARCH citizens USING INDEX sqlite_autoindex_citizens_1 \(id=\?\)/);
    expect(plan).toMatch(/SEARCH consents USING INDEX consents_tenant_citizen \(tenant=\? AND citizen_id=\?\)/);
    // The source's own say, per member: by its key.
    expect(plan).toMatch(/SEARCH regional_refusals USING (COVERING )?INDEX sqlite_autoindex_regional_refusals_1 \(tenant=\? AND citizen_id=\?\)/);
    expect(plan).toMatch(/SEARCH regional_consent_ends USING (COVERING )?INDEX sqlite_autoindex_regional_consent_ends_1 \(tenant=\? AND citizen_id=\?\)/);
    expect(plan).not.toMatch(/SCAN (plan_members|citizens|consents|regional_refusals|regional_consent_ends)/);
  });
});
