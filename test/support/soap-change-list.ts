/**
 * The change list (`changes`) of a SOAP adapter when the source sends change items that break the
 * contract, against its running simulator over real HTTP on 127.0.0.1, shared by the DFDG and
 * Ungedatabasen tests (call it inside a `describe`). Bad items are put into the simulator's
 * replies with `injectChangeItem`. CPR numbers are never printed: notices are compared by record
 * id, version and time, reasons and raw payloads are checked as booleans.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ChangeNotice, ChangesPage, QuarantinedRecord, SourceAdapter } from '../../adapters/adapter';
import { CHANGE_ITEM_RAW_LIMIT, type ChangeListSpec } from '../../adapters/soap/change-list';
import type { SoapSectorSimulator } from '../../adapters/soap/simulator-kit';
import type { XmlWritableObject } from '../../adapters/soap/xml';
import { failure } from './soap-batch-read';

const CPR_SHAPED = /\d{6}-?\d{4}/;

export interface ChangeListSuiteOptions {
  /** Start a fresh simulator (each test gets its own: injected items stay in a simulator's feed). */
  start(): Promise<SoapSectorSimulator>;
  connect(baseUrl: string, options?: { fetch?: typeof fetch }): SourceAdapter;
  spec: ChangeListSpec;
}

/** What identifies a notice, without its CPR. */
const key = (n: ChangeNotice) => `${n.recordType}/${n.recordId}@${n.version} ${n.updatedAt}`;

export function changeListQuarantineSuite(options: ChangeListSuiteOptions): void {
  const { spec } = options;
  const f = spec.fields;
  let sim: SoapSectorSimulator;
  let adapter: SourceAdapter;
  /** The feed as it was before anything was injected. */
  let feed: ChangeNotice[];

  beforeEach(async () => {
    sim = await options.start();
    adapter = options.connect(sim.url);
    const all = await adapter.changes(null, 1000);
    expect(all.hasMore).toBe(false);
    feed = all.changes;
    expect(feed.length).toBe(sim.recordCount());
    expect(feed.length).toBeGreaterThan(60);
  });
  afterEach(() => sim.close());

  /** A change item like `notice` with some elements replaced; by default just after `notice` in the feed. */
  const itemLike = (notice: ChangeNotice, overrides: Record<string, string> = {}): XmlWritableObject => ({
    [f.cpr]: notice.cpr,
    [f.recordType]: notice.recordType,
    // '!' sorts before every character of the simulators' ids: the item falls between this notice and the next.
    [f.recordId]: `${notice.recordId}!bad`,
    [f.version]: notice.version,
    [f.updatedAt]: notice.updatedAt,
    ...overrides,
  });
  /** A position just after `notice` (for items whose own position cannot be read). */
  const after = (notice: ChangeNotice, suffix: string) => ({ updatedAtMs: Date.parse(notice.updatedAt), recordId: `${notice.recordId}!${suffix}` });

  function expectCleanReasons(quarantined: readonly QuarantinedRecord[]): void {
    const cprs = sim.population.map((c) => c.cpr);
    for (const q of quarantined) {
      expect(q.reason.length).toBeGreaterThan(20);
      expect(CPR_SHAPED.test(q.reason)).toBe(false);
      expect(cprs.some((cpr) => q.reason.includes(cpr))).toBe(false);
      expect(q.raw.length).toBeLessThanOrEqual(CHANGE_ITEM_RAW_LIMIT);
    }
  }

  /** Follow the feed from `since` to its end, as the sync engine does; fails instead of looping. */
  async function follow(since: string | null, limit: number) {
    const notices: ChangeNotice[] = [];
    const quarantined: QuarantinedRecord[] = [];
    let cursor = since;
    let pages = 0;
    for (;;) {
      const page: ChangesPage = await adapter.changes(cursor, limit);
      notices.push(...page.changes);
      quarantined.push(...(page.quarantined ?? []));
      if (page.hasMore) expect(page.cursor).not.toBe(cursor);
      cursor = page.cursor;
      if (!page.hasMore) break;
      if (++pages > 1000) throw new Error('the feed did not end');
    }
    return { notices, quarantined, cursor };
  }

  it('quarantines one bad change item among good ones with a readable reason, and moves the cursor past it', async () => {
    const start = await adapter.changes(null, 4);
    const [n4, n5, n6] = [feed[4]!, feed[5]!, feed[6]!];
    sim.injectChangeItem(itemLike(n4, { [f.recordType]: 'unemployment-benefit' }));

    // One page holding good items with the bad one between them.
    const page = await adapter.changes(start.cursor, 3);
    expect(page.changes.map(key)).toEqual([n4, n5].map(key));
    expect(page.changes[0]!.cpr === n4.cpr && page.changes[1]!.cpr === n5.cpr).toBe(true);
    expect(page.hasMore).toBe(true);
    expect(page.quarantined).toHaveLength(1);
    const bad = page.quarantined![0]!;
    expect(bad.recordType).toBe('unknown');
    expect(bad.recordId).toBe(`${n4.recordId}!bad`);
    expect(bad.reason).toContain(`the ${spec.itemElement} does not match the ${spec.serviceName} change-list contract`);
    expect(bad.reason).toContain(`${f.recordType}:`);
    expect(bad.raw.includes(`<${f.recordType}>unemployment-benefit</${f.recordType}>`)).toBe(true);
    expectCleanReasons(page.quarantined!);
    expect((await adapter.changes(page.cursor, 1)).changes.map(key)).toEqual([key(n6)]);

    // A page that ends with the bad item: the cursor is the bad item's position, so it is not sent again.
    const endsBad = await adapter.changes(start.cursor, 2);
    expect(endsBad.changes.map(key)).toEqual([key(n4)]);
    expect(endsBad.quarantined?.map((q) => q.recordId)).toEqual([`${n4.recordId}!bad`]);
    const next = await adapter.changes(endsBad.cursor, 2);
    expect(next.changes.map(key)).toEqual([n5, n6].map(key));
    expect(next.quarantined).toBeUndefined();
  });

  it('follows the feed to its end past bad items of every kind, each good notice once', async () => {
    const huge = 'x'.repeat(CHANGE_ITEM_RAW_LIMIT + 500);
    // Readable positions: the cursor moves past these.
    sim.injectChangeItem(itemLike(feed[5]!, { [f.cpr]: '12345' }));
    sim.injectChangeItem(itemLike(feed[12]!, { [f.version]: 'first' }));
    sim.injectChangeItem(itemLike(feed[20]!, { [f.version]: huge }));
    // Unreadable positions: the cursor moves past these only with a readable item after them.
    sim.injectChangeItem(itemLike(feed[27]!, { [f.updatedAt]: 'yesterday' }), after(feed[27]!, 'u1'));
    sim.injectChangeItem('not a change item', after(feed[33]!, 'u2'));
    sim.injectChangeItem({ Comment: 'no fields at all' }, after(feed[40]!, 'u3'));

    const result = await follow(null, 7);
    expect(result.notices.map(key)).toEqual(feed.map(key));
    expect(result.notices.every((n, i) => n.cpr === feed[i]!.cpr)).toBe(true);

    const byId = (id: string | null) => result.quarantined.filter((q) => q.recordId === id);
    const [cpr, version, long] = [byId(`${feed[5]!.recordId}!bad`), byId(`${feed[12]!.recordId}!bad`), byId(`${feed[20]!.recordId}!bad`)];
    for (const once of [cpr, version, long]) expect(once).toHaveLength(1);
    expect(cpr[0]!.reason).toMatch(new RegExp(`${f.cpr}: a CPR number has 10 digits`));
    expect(cpr[0]!.recordType).toBe(feed[5]!.recordType);
    expect(version[0]!.reason).toContain(`${f.version}:`);
    expect(long[0]!.raw.length).toBe(CHANGE_ITEM_RAW_LIMIT);
    expect(long[0]!.raw.startsWith(`<${spec.itemElement}>`)).toBe(true);
    expect(long[0]!.raw.endsWith('…')).toBe(true);

    const unreadable = result.quarantined.filter((q) => ![cpr[0], version[0], long[0]].includes(q));
    const reasons = unreadable.map((q) => q.reason);
    // Its position unreadable, a later item's moved the cursor past it: the reason says so, and what follows from it.
    expect(reasons.some((r) => r.includes(`${f.updatedAt}:`) && r.includes('cannot be read; the feed went on past it with the next readable item'))).toBe(true);
    expect(reasons.filter((r) => r.includes('the cursor stays before it'))).toEqual([]);
    expect(reasons.some((r) => r.includes('is not a structured change item'))).toBe(true);
    expect(reasons.filter((r) => r.includes(`${f.recordId}:`) && r.includes(`${f.cpr}:`)).length).toBeGreaterThan(0);
    expect(unreadable.length).toBeGreaterThanOrEqual(3);
    expectCleanReasons(result.quarantined);

    // At the end: nothing new, nothing quarantined again.
    expect(await adapter.changes(result.cursor, 10)).toEqual({ changes: [], cursor: result.cursor, hasMore: false });
  });

  it('throws instead of looping on a page made only of items without a readable position while more is available', async () => {
    const start = await adapter.changes(null, 2);
    const [n1, n2, n3] = [feed[1]!, feed[2]!, feed[3]!];
    sim.injectChangeItem(itemLike(n1, { [f.updatedAt]: 'soon' }), after(n1, 'u1'));
    sim.injectChangeItem(itemLike(n1, { [f.recordId]: '' }), after(n1, 'u2'));

    const stuck = await failure(adapter.changes(start.cursor, 2));
    expect(stuck).toMatchObject({ permanent: true, code: 'change-list-stuck' });
    expect(stuck.message).toContain(`the ${spec.serviceName} change list does not move forward`);
    expect(stuck.message).toContain('more changes are available');
    expect(CPR_SHAPED.test(stuck.message)).toBe(false);

    // One good item after them is enough to move on.
    const moved = await adapter.changes(start.cursor, 3);
    expect(moved.changes.map(key)).toEqual([key(n2)]);
    expect(moved.quarantined).toHaveLength(2);
    expect(moved.quarantined!.map((q) => q.recordId)).toEqual([`${n1.recordId}!bad`, null]);
    expectCleanReasons(moved.quarantined!);
    expect((await adapter.changes(moved.cursor, 1)).changes.map(key)).toEqual([key(n3)]);
  });

  it('at the end of the feed keeps the cursor where it is when only unreadable items follow', async () => {
    const last = feed.at(-1)!;
    const end = await follow(null, 50);
    sim.injectChangeItem(itemLike(last, { [f.updatedAt]: '' }), after(last, 'u'));
    const page = await adapter.changes(end.cursor, 50);
    expect(page.changes).toEqual([]);
    expect(page.cursor).toBe(end.cursor);
    expect(page.hasMore).toBe(false);
    expect(page.quarantined).toHaveLength(1);
    expectCleanReasons(page.quarantined!);
  });

  it('still refuses a reply that is not a change list at all', async () => {
    const flag = new RegExp(`(<(?:\\w+:)?${spec.moreElement}>)[^<]*`);
    const rewriting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const text = (await response.text()).replace(flag, '$1perhaps');
      return new Response(text, { status: response.status, headers: { 'content-type': response.headers.get('content-type') ?? '' } });
    };
    const error = await failure(options.connect(sim.url, { fetch: rewriting }).changes(null, 5));
    expect(error).toMatchObject({ permanent: true, code: 'invalid-change-list' });
    expect(error.message).toContain(spec.moreElement);
  });
}
