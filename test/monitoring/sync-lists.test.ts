/**
 * `GET /v1/sync/quarantine` and `GET /v1/sync/runs` for IT staff: every row reachable page by page,
 * none twice, also where many share one time (a run quarantines a chunk's records at one instant).
 */
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/node-app';

describe('sync lists', () => {
  it('page through every open quarantined record and every run, ties included', async () => {
    const app = await startTestApp();
    const at = '2026-11-23T08:00:00.000Z';
    await app.deps.store.batch(
      Array.from({ length: 5 }, (_, n) =>
        app.deps.store.sync.quarantineStatement({ id: `q-${n}`, tenant: '101', adapter: 'dfdg', recordType: 'activity', recordId: `a-${n}`, mappingId: 'dfdg.activity', reason: 'activity.type: unknown', raw: null, runId: 'r', citizenId: `c-${n}`, createdAt: at }),
      ),
    );
    for (let n = 0; n < 5; n++) {
      await app.deps.store.sync.startRun({ id: `run-${n}`, tenant: '101', adapter: 'dfdg', trigger: 'test', startedAt: at, stats: {} });
      await app.deps.store.sync.finishRun('101', `run-${n}`, 'succeeded', {}, at);
    }
    const headers = { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['it-staff'] })}` };
    const pages = async (path: string, key: 'records' | 'runs') => {
      const seen: string[] = [];
      for (let offset: number | null = 0, pagesRead = 0; offset !== null && pagesRead < 5; pagesRead++) {
        const answer = await app.harness.request(`${path}?limit=2&offset=${offset}`, { headers });
        expect(answer.status).toBe(200);
        const body = (await answer.json()) as Record<string, { id: string }[]> & { nextOffset: number | null };
        seen.push(...body[key]!.map((row) => row.id));
        offset = body.nextOffset;
      }
      return seen;
    };
    expect((await pages('/v1/sync/quarantine', 'records')).sort()).toEqual(['q-0', 'q-1', 'q-2', 'q-3', 'q-4']);
    expect((await pages('/v1/sync/runs', 'runs')).sort()).toEqual(['run-0', 'run-1', 'run-2', 'run-3', 'run-4']);
    await app.close();
  });
});
