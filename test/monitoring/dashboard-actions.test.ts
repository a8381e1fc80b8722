/**
 * The dashboard's quarantine list and the notices its actions leave (R24): how many records are
 * open when only the newest are listed, times in Danish time, and a notice only the dashboard
 * itself can put on the page — never one a link brings along.
 */
import { describe, expect, it } from 'vitest';
import type { QuarantineRow } from '../../src/store/sync';
import { startTestApp } from '../support/node-app';

const entry = (n: number): QuarantineRow => ({
  id: `q-${String(n).padStart(2, '0')}`,
  tenant: '101',
  adapter: 'social',
  recordType: 'Goal',
  recordId: `g-${n}`,
  mappingId: 'social.goal',
  reason: 'contract: lifecycleStatus',
  raw: null,
  runId: null,
  citizenId: `c-${n}`,
  // Winter: Danish time is UTC+1.
  createdAt: new Date(Date.UTC(2026, 10, 23, 8, n)).toISOString(),
});

async function dashboardApp(options: { storeThread?: boolean } = {}) {
  const app = await startTestApp(options);
  const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
  const cookie = `enplan_session=${token}`;
  /** A dashboard form as the browser posts it, following the redirect with the cookies it set. */
  const submit = async (action: string) => {
    const answer = await app.harness.request(action, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' }, body: '' });
    expect(answer.status).toBe(303);
    const set = answer.headers.getSetCookie().map((c) => c.split(';')[0]!);
    return app.harness.request(answer.headers.get('location')!, { headers: { cookie: [cookie, ...set].join('; ') } }).then((r) => r.text());
  };
  const page = (path = '/dashboard') => app.harness.request(path, { headers: { cookie } }).then((r) => r.text());
  return { app, token, submit, page };
}

const noticeOf = (html: string) => /<p[^>]*id="notice"[^>]*>([^<]*)<\/p>/.exec(html)?.[1];

describe('dashboard quarantine and notices', () => {
  it('says how many quarantined records are open when it lists only the newest, not counting resolved ones', async () => {
    const { app, token, page } = await dashboardApp();
    await app.deps.store.batch(Array.from({ length: 25 }, (_, n) => app.deps.store.sync.quarantineStatement(entry(n))));
    for (const id of ['q-00', 'q-24']) {
      const answer = await app.harness.request(`/v1/sync/quarantine/${id}/resolve`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"action":"dismiss"}' });
      expect(answer.status).toBe(200);
    }
    const html = await page();
    expect(html.match(/data-quarantine="/g)).toHaveLength(20);
    expect(/<p[^>]*id="quarantine-open"[^>]*>([^<]*)</.exec(html)?.[1]).toBe('23 open; the newest 20 are listed (all: GET /v1/sync/quarantine)');
    // The newest open one first, in Danish time.
    expect(/<tr data-quarantine="q-23">.*?<td class="muted">([^<]*)<\/td>/s.exec(html)?.[1]).toBe('2026-11-23 09:23');
    await app.close();
  });

  it('resolves a record once when two resolutions arrive together: one answer 200, the other 409, one audit row', async () => {
    // SQLite on its own thread, as the service runs: the two requests' reads and writes interleave.
    const { app, token } = await dashboardApp({ storeThread: true });
    await app.deps.store.batch([app.deps.store.sync.quarantineStatement(entry(7))]);
    const resolve = (action: string) =>
      app.harness.request('/v1/sync/quarantine/q-07/resolve', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ action }) });
    const answers = await Promise.all([resolve('dismiss'), resolve('retry')]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const won = (await answers.find((a) => a.status === 200)!.json()) as { resolution: string };
    const audit = (await app.deps.store.audit.list('101')).filter((row) => row.action === 'quarantine.resolved');
    expect(audit.map((row) => row.detail.resolution)).toEqual([won.resolution]);
    await app.close();
  });

  it('shows a notice its own action left, in Danish time, and none that a link carries', async () => {
    const { app, submit, page } = await dashboardApp();
    await app.deps.store.batch([app.deps.store.sync.quarantineStatement(entry(5))]);
    expect(noticeOf(await submit('/dashboard/quarantine/q-05/dismiss'))).toBe('Dismissed.');
    // Resolved already: when, as the reader's clock says it (dismissed at the test's now).
    const resolvedAt = (await app.deps.store.sync.quarantineEntry('101', 'q-05'))!.resolvedAt!;
    const again = noticeOf(await submit('/dashboard/quarantine/q-05/dismiss'));
    expect(again).toContain('resolved already');
    expect(again).not.toContain(resolvedAt);
    expect(again).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d \(Danish time\)/);
    // A notice is the page's own word: one in a link someone sent is not shown.
    const lure = await page(`/dashboard?notice=${encodeURIComponent('Your session expired: paste your token at https://elsewhere.example')}`);
    expect(lure).toContain('id="adapters"');
    expect(noticeOf(lure)).toBeUndefined();
    expect(lure).not.toContain('elsewhere.example');
    // Shown once: reading the page again shows no notice.
    expect(noticeOf(await page())).toBeUndefined();
    await app.close();
  });
});
