/**
 * R11: sharing without consent is the exception and is told. The caseworkers' worklist names the
 * legal-basis records whose citizen has not been told yet, longest waiting first, with the
 * citizen's plans; telling the citizen takes the record off it. The dashboard counts them.
 */
import { describe, expect, it } from 'vitest';
import { membersOf } from '../../src/model';
import { monitoringOverview } from '../../src/monitoring/overview';
import { TestClock } from '../registrations/fixture';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

describe('legal bases still to be told (R11)', () => {
  it('are listed longest waiting first with the citizen’s plans, and leave the list once told', async () => {
    const clock = new TestClock(Date.parse('2026-11-20T09:00:00.000Z'));
    const app = await startTestApp({ clock });
    const call = async (method: string, path: string, body?: unknown, roles: ('caseworker' | 'citizen')[] = ['caseworker'], citizenId?: string) => {
      const token = await app.harness.token({ tenant: '101', roles, citizenId });
      const response = await app.harness.request(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const record = async (plan: Awaited<ReturnType<typeof enrol>>, basis: string) => {
      const response = await call('POST', '/v1/consents/legal-basis', { planId: plan.id, memberId: membersOf(plan)[0]!.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis });
      expect(response.status).toBe(201);
      return response.body as { id: string; citizenId: string };
    };
    const older = await enrol(app.deps, testCpr());
    const first = await record(older, 'SEL § 49 b');
    clock.advance(24 * 3600_000);
    const newer = await enrol(app.deps, testCpr());
    const second = await record(newer, 'Barnets lov § 133');

    const list = async (query = '') => (await call('GET', `/v1/consents/legal-basis/to-inform${query}`)).body as { items: { record: { id: string; basis: string }; planIds: string[] }[]; nextOffset: number | null };
    expect((await list()).items.map((i) => [i.record.id, i.record.basis, i.planIds])).toEqual([
      [first.id, 'SEL § 49 b', [older.id]],
      [second.id, 'Barnets lov § 133', [newer.id]],
    ]);
    expect(await list('?limit=1')).toMatchObject({ items: [{ record: { id: first.id } }], nextOffset: 1 });
    expect((await list('?limit=1&offset=1')).items.map((i) => i.record.id)).toEqual([second.id]);
    expect((await monitoringOverview(app.deps, '101')).legalBasesToInform).toBe(2);

    expect((await call('POST', `/v1/consents/legal-basis/${first.id}/informed`)).status).toBe(200);
    expect((await list()).items.map((i) => i.record.id)).toEqual([second.id]);
    expect((await monitoringOverview(app.deps, '101')).legalBasesToInform).toBe(1);
    // Not for citizens; not across municipalities; bad paging is a 400.
    expect((await call('GET', '/v1/consents/legal-basis/to-inform', undefined, ['citizen'], first.citizenId)).status).toBe(403);
    const elsewhere = await app.harness.request('/v1/consents/legal-basis/to-inform', { headers: { authorization: `Bearer ${await app.harness.token({ tenant: '751', roles: ['caseworker'] })}` } });
    expect(((await elsewhere.json()) as { items: unknown[] }).items).toEqual([]);
    expect((await call('GET', '/v1/consents/legal-basis/to-inform?limit=0')).status).toBe(400);
    await app.close();
  });
});
