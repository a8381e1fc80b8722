/**
 * The merged-record marks (applied_records) keep whose a record is and whether its current version
 * is merged. They were keyed by version and never dropped while the plan lived, so they grew by a
 * row with every change of every record (issue 4: storage must not grow without bound). Retention
 * now drops the marks of versions a newer mark of the same record replaced, comparing versions as
 * the merge does (numbers as numbers, other versions as text), page by page through the marks' key.
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf } from '../../src/model';
import { appliedRecords } from '../../src/store/schema';
import type { SyncMarkRow } from '../../src/store/sync';
import { runRetention } from '../../src/sync/retention';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

const [first, second] = generatePopulation(2, 2511);
const at = '2026-11-25T08:00:00.000Z';

describe('retention and the merged-record marks', () => {
  it('drops the marks of versions a newer one replaced, per citizen and source, and keeps every newest', async () => {
    const app = await startTestApp({});
    const planOf = async (cpr: string) => {
      const plan = await enrol(app.deps, cpr);
      return { planId: plan.id, citizenId: membersOf(plan)[0]!.citizenId };
    };
    const a = await planOf(first!.cpr);
    const b = await planOf(second!.cpr);
    const mark = (owner: { planId: string; citizenId: string }, source: string, recordId: string, recordVersion: string, complete = true): SyncMarkRow => ({ ...owner, source, recordId, recordVersion, ...(complete ? {} : { complete: false }) });
    const rows: SyncMarkRow[] = [
      // Numeric versions compare as numbers: 10 is the newest, not 2.
      mark(a, 'dfdg', 'r1', '1'),
      mark(a, 'dfdg', 'r1', '2'),
      mark(a, 'dfdg', 'r1', '10'),
      mark(a, 'dfdg', 'r2', '3'),
      // The same record id from another source, and for another citizen: marks of their own.
      mark(a, 'social', 'r1', '1'),
      mark(b, 'dfdg', 'r1', '1'),
      // Timestamps compare as text; a mark of a merge in part goes like any other.
      mark(a, 'health', 'r3', '2026-11-01T10:00:00Z', false),
      mark(a, 'health', 'r3', '2026-11-20T10:00:00Z'),
      // The newest merged in part stays (the record is still merged again on every read).
      mark(b, 'health', 'r4', '5'),
      mark(b, 'health', 'r4', '6', false),
    ];
    // More records than one page holds (500), each with two versions: the pages follow on.
    for (let i = 0; i < 1_200; i++) rows.push(mark(b, 'social', `many-${String(i).padStart(4, '0')}`, '1'), mark(b, 'social', `many-${String(i).padStart(4, '0')}`, '2'));
    await app.deps.store.batch(app.deps.store.sync.appliedManyStatements('101', at, rows));

    const summary = await runRetention(app.deps);
    expect(summary.supersededMarksPruned).toBe(4 + 1_200);
    const left = await app.database.db.select({ citizenId: appliedRecords.citizenId, source: appliedRecords.source, recordId: appliedRecords.recordId, recordVersion: appliedRecords.recordVersion, complete: appliedRecords.complete }).from(appliedRecords).where(eq(appliedRecords.tenant, '101'));
    const keyOf = (r: { citizenId: string; source: string; recordId: string; recordVersion: string }) => `${r.citizenId === a.citizenId ? 'a' : 'b'} ${r.source} ${r.recordId}@${r.recordVersion}`;
    const few = left.filter((r) => !r.recordId.startsWith('many-')).map(keyOf).sort();
    expect(few).toEqual(['a dfdg r1@10', 'a dfdg r2@3', 'a health r3@2026-11-20T10:00:00Z', 'a social r1@1', 'b dfdg r1@1', 'b health r4@6'].sort());
    const many = left.filter((r) => r.recordId.startsWith('many-'));
    expect(many).toHaveLength(1_200);
    expect(many.every((r) => r.recordVersion === '2')).toBe(true);
    // The newest merged in part is still a mark in part: retention changes no mark it keeps.
    expect(left.find((r) => r.recordId === 'r4')).toMatchObject({ recordVersion: '6', complete: 0 });

    // Nothing left to drop: the next run drops nothing.
    expect((await runRetention(app.deps)).supersededMarksPruned).toBe(0);
    const count = await app.database.db.select({ recordId: appliedRecords.recordId }).from(appliedRecords).where(and(eq(appliedRecords.tenant, '101'), eq(appliedRecords.citizenId, b.citizenId)));
    expect(count).toHaveLength(1 + 1 + 1_200);
    await app.close();
  });
});
