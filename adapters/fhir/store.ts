/**
 * The simulator's FHIR repository: medplum's `MemoryRepository` with what a sync partner relies on
 * and the in-memory repository leaves out (measured and read in @medplum/fhir-router 4.5.2):
 *
 * - Versions are "1", "2", … and `lastUpdated` comes from one write clock, instead of a random UUID
 *   per version and `new Date()`, so versions order edits and `_lastUpdated` pages never skip.
 * - Writes are serialised. The base repository checks `If-Match` and runs conditional create as
 *   "search, then create" across an `await`, without a transaction (`withTransaction` just calls
 *   back), so two concurrent conditional creates with the same identifier could both create.
 * - Searches use indexes (identifier, subject/patient reference, `_id`, the lastUpdated order) and
 *   support a keyset `cursor`; the base search evaluates FHIRPath on every stored resource of the
 *   type (0.15 s for an identifier search over 5,000 patients, 22 s for `Goal?patient=` over
 *   30,000 goals) and has no paging links. Comma OR-lists (`identifier=s|a,s|b`,
 *   `subject=Patient/x,Patient/y`) are looked up value by value in the same indexes (a lazily seeded
 *   citizen is materialised per value exactly as by a single search), and an unsorted indexed
 *   result is ordered by "Type/id", which edits do not change, so `_offset` pages of a long OR-list
 *   neither skip nor repeat a record edited while a client pages. Filters the indexes do not cover are still checked with
 *   medplum's own `matchesSearchRequest`, so results keep medplum's search semantics.
 * - Seeded records can stay virtual ("lazy"): they are regenerated on read from the deterministic
 *   population and only copied into the repository when written (copy-on-write). In "eager" mode
 *   every seeded record is stored in the MemoryRepository at start. See simulator.ts for the numbers.
 */
import { badRequest, matchesSearchRequest, multipleMatches, notFound, Operator, OperationOutcomeError, preconditionFailed, allOk, created, getSearchParameter, toPeriod } from '@medplum/core';
import type { Filter, SearchRequest, WithId } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import type { CreateResourceOptions, UpdateResourceOptions } from '@medplum/fhir-router';
import { applyPatch, type Operation } from 'rfc6902';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { loadProfiles } from './definitions';
import { decodeSeedId, seedId } from './seed';
import { ENPLAN_OPERATION_SYSTEM, ENPLAN_OPERATION_TAG_SYSTEM } from './systems';

/** Where seeded records come from: a deterministic generator per citizen. */
export interface SeedSource {
  sector: string;
  seed: number;
  /** Number of seeded citizens (ordinals 0 … size − 1). */
  size: number;
  /** Every record of one citizen in slot order, each with id and meta (versionId "1", lastUpdated). */
  recordsOf(ordinal: number): Resource[];
  /** The ordinal of the citizen holding this CPR number, if seeded. */
  ordinalOfCpr(cpr: string): number | undefined;
}

export type SeedingMode = 'eager' | 'lazy';

export interface SimulatorRepositoryOptions {
  seeding: SeedingMode;
  /** Write timestamps: strictly increasing (default), or whatever `clock` says (ties allowed). */
  writeTimestamps?: 'strictly-increasing' | 'clock';
  clock?: () => number;
}

/** One page of a search, before the HTTP layer turns it into a Bundle with links. */
export interface SearchPage {
  resources: WithId<Resource>[];
  /** More matches follow this page. */
  hasMore: boolean;
  /** Total matches, when it was cheap to know (FHIR allows leaving it out). */
  total?: number;
  /** Keyset position of the last resource, for a `_cursor` next link when sorted by `_lastUpdated`. */
  cursorAfterLast?: string;
}

export interface WriteRecord {
  resourceType: string;
  id: string;
  version: string;
  lastUpdated: string;
}

const DELETED = '\u0000deleted';
const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;

const keyOf = (resourceType: string, id: string) => `${resourceType}/${id}`;

/** Keyset position (lastUpdated ms, "Type/id") as an opaque token. */
export function encodeKeyset(ms: number, key: string): string {
  return Buffer.from(`${ms}|${key}`, 'utf8').toString('base64url');
}

export function decodeKeyset(token: string): { ms: number; key: string } | undefined {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const ms = Number(text.slice(0, bar));
  if (bar < 1 || !Number.isFinite(ms) || !text.slice(bar + 1).includes('/')) return undefined;
  return { ms, key: text.slice(bar + 1) };
}

/** A history page's position (ms, "Type/id", version) as an opaque token. */
function encodeHistoryPosition(ms: number, key: string, version: string): string {
  return Buffer.from(`${ms}|${version}|${key}`, 'utf8').toString('base64url');
}

function decodeHistoryPosition(token: string): { ms: number; key: string; version: string } | undefined {
  const [ms, version, ...key] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  const at = Number(ms);
  return Number.isFinite(at) && version && key.join('|').includes('/') ? { ms: at, version, key: key.join('|') } : undefined;
}

/** (ms, key) order: by lastUpdated, then by "Type/id" as plain string comparison. */
const before = (aMs: number, aKey: string, bMs: number, bKey: string) => aMs < bMs || (aMs === bMs && aKey < bKey);

interface Bounds {
  /** Lowest allowed ms and whether equal is allowed. */
  lower?: { ms: number; inclusive: boolean };
  upper?: { ms: number; inclusive: boolean };
}

interface LogEntry {
  ms: number;
  key: string;
  version: string;
  /** A tombstone: the resource was deleted at this instant, as this version. */
  deleted?: true;
}

/** One entry of a history Bundle, before the HTTP layer adds URLs: a version, or a deletion (no resource). */
export interface HistoryEntry {
  resourceType: string;
  id: string;
  version: string;
  lastUpdated: string;
  deleted: boolean;
  /** The version's content; absent for a deletion. */
  resource?: Resource;
}

/** One page of a history, newest first. */
export interface HistoryPage {
  entries: HistoryEntry[];
  hasMore: boolean;
  /** Keyset position of the last entry, for a next link: the page after holds only older entries. */
  cursorAfterLast?: string;
}

export class SimulatorRepository extends MemoryRepository {
  readonly seeding: SeedingMode;
  private readonly seedSource: SeedSource;
  private readonly strictlyIncreasing: boolean;
  private readonly clock: () => number;
  private lastWriteMs = 0;

  /** Seeded records sorted by (lastUpdated, key): parallel typed arrays keep 50,000 citizens small. */
  private seedMs = new Float64Array(0);
  private seedOrdinal = new Int32Array(0);
  private seedSlot = new Uint16Array(0);
  private seedType = new Uint8Array(0);
  /** Where each citizen's records start in slot order (ordinal → first index), and which seeded
   * records have been written or deleted since (by that index). */
  private ordinalStart = new Int32Array(1);
  private seedWritten = new Uint8Array(0);
  private readonly typeNames: string[] = [];
  private readonly typeIndex = new Map<string, number>();

  /** Current version of every resource written since start (created, updated or deleted). */
  private readonly written = new Map<string, string>();
  /** The version a deletion wrote, per deleted resource: a re-creation goes on from it (as HAPI does). */
  private readonly tombstones = new Map<string, string>();
  /** Writes in (lastUpdated, key) order; an entry is live while `written` still holds its version. */
  private readonly writeLog: LogEntry[] = [];
  /** Resources created since start, per type, in creation order. */
  private readonly createdByType = new Map<string, string[]>();
  private readonly identifierIndex = new Map<string, Set<string>>();
  /** The same by value alone, for a token search without a system (`identifier=<value>`). */
  private readonly identifierCodeIndex = new Map<string, Set<string>>();
  private readonly referenceIndex = new Map<string, Set<string>>();
  private readonly effectCounts = new Map<string, number>();
  private writeChain: Promise<unknown> = Promise.resolve();
  private readonly recentCitizens = new Map<number, Resource[]>();

  constructor(seedSource: SeedSource, options: SimulatorRepositoryOptions) {
    super();
    this.seedSource = seedSource;
    this.seeding = options.seeding;
    this.strictlyIncreasing = (options.writeTimestamps ?? 'strictly-increasing') === 'strictly-increasing';
    this.clock = options.clock ?? Date.now;
  }

  /** Builds the seed index and, in eager mode, stores every seeded record in the MemoryRepository. */
  async seed(): Promise<{ records: number }> {
    const ms: number[] = [];
    const ordinals: number[] = [];
    const slots: number[] = [];
    const types: number[] = [];
    for (let ordinal = 0; ordinal < this.seedSource.size; ordinal++) {
      const records = this.seedSource.recordsOf(ordinal);
      for (let slot = 0; slot < records.length; slot++) {
        const record = records[slot]!;
        ms.push(Date.parse(record.meta!.lastUpdated!));
        ordinals.push(ordinal);
        slots.push(slot);
        types.push(this.typeId(record.resourceType));
        // MemoryRepository keeps the seed's own versionId and lastUpdated when they are set.
        if (this.seeding === 'eager') await super.createResource(record);
      }
    }
    const order = Array.from(ms.keys());
    order.sort((a, b) => {
      if (ms[a] !== ms[b]) return ms[a]! - ms[b]!;
      const ka = this.seedKeyAt(types[a]!, ordinals[a]!, slots[a]!);
      const kb = this.seedKeyAt(types[b]!, ordinals[b]!, slots[b]!);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    this.ordinalStart = new Int32Array(this.seedSource.size + 1);
    for (const ordinal of ordinals) this.ordinalStart[ordinal + 1] = this.ordinalStart[ordinal + 1]! + 1;
    for (let o = 0; o < this.seedSource.size; o++) this.ordinalStart[o + 1] = this.ordinalStart[o + 1]! + this.ordinalStart[o]!;
    this.seedWritten = new Uint8Array(ms.length);
    this.seedMs = Float64Array.from(order, (i) => ms[i]!);
    this.seedOrdinal = Int32Array.from(order, (i) => ordinals[i]!);
    this.seedSlot = Uint16Array.from(order, (i) => slots[i]!);
    this.seedType = Uint8Array.from(order, (i) => types[i]!);
    this.lastWriteMs = Math.max(this.lastWriteMs, this.seedMs[this.seedMs.length - 1] ?? 0);
    return { records: ms.length };
  }

  // ---------------------------------------------------------------- reads

  override async readResource<T extends Resource>(resourceType: string, id: string): Promise<T> {
    const resource = await this.current(resourceType, id);
    if (!resource) throw new OperationOutcomeError(notFound);
    return resource as T;
  }

  override async readHistory<T extends Resource>(resourceType: string, id: string): Promise<Bundle<T>> {
    const current = await this.current(resourceType, id);
    if (!current) throw new OperationOutcomeError(notFound);
    const key = keyOf(resourceType, id);
    const stored = this.seeding === 'eager' || this.written.has(key) ? ((await super.readHistory<T>(resourceType, id)).entry ?? []) : [];
    const seeded = this.seeding === 'lazy' ? this.seedRecord(resourceType, id) : undefined;
    const entry = seeded ? [...stored, { resource: seeded as T }] : stored;
    // Newest first. MemoryRepository.readHistory reverses its stored array in place on every call,
    // so its order cannot be trusted; versions are numbers here, so sort by them.
    entry.sort((a, b) => Number(b.resource?.meta?.versionId) - Number(a.resource?.meta?.versionId));
    return { resourceType: 'Bundle', type: 'history', ...(entry.length ? { entry } : {}) };
  }

  override async readVersion<T extends Resource>(resourceType: string, id: string, versionId: string): Promise<T> {
    const history = await this.readHistory<T>(resourceType, id);
    const version = history.entry?.find((e) => e.resource?.meta?.versionId === versionId)?.resource;
    if (!version) throw new OperationOutcomeError(notFound);
    return version;
  }

  // ---------------------------------------------------------------- writes

  override createResource<T extends Resource>(resource: T, options?: CreateResourceOptions): Promise<WithId<T>> {
    return this.exclusive(() => this.insert(resource, options));
  }

  override updateResource<T extends Resource>(resource: T, options?: UpdateResourceOptions): Promise<WithId<T>> {
    return this.exclusive(async () => {
      if (!resource.id) throw new OperationOutcomeError(badRequest('Missing id'));
      const current = await this.current(resource.resourceType, resource.id);
      if (options?.ifMatch !== undefined) {
        if (!current) throw new OperationOutcomeError(notFound);
        if (current.meta?.versionId !== options.ifMatch) throw new OperationOutcomeError(preconditionFailed);
      }
      // An update of an unknown id creates it (FHIR "update as create").
      return this.storeVersion(resource, current);
    });
  }

  /**
   * JSON Patch (RFC 6902) of the current version, checked against `If-Match` in the same write: the
   * base class reads and writes across an `await`, outside the write lock, and ignores `If-Match`.
   */
  override patchResource<T extends Resource>(resourceType: T['resourceType'], id: string, patch: Operation[], options?: UpdateResourceOptions): Promise<WithId<T>> {
    return this.exclusive(async () => {
      const current = await this.current(resourceType, id);
      if (!current) throw new OperationOutcomeError(notFound);
      if (options?.ifMatch !== undefined && current.meta?.versionId !== options.ifMatch) throw new OperationOutcomeError(preconditionFailed);
      const patched = structuredClone(current) as T;
      const failures = applyPatch(patched, patch).filter((failure) => failure !== null);
      if (failures.length > 0) throw new OperationOutcomeError(badRequest(failures.map((failure) => failure.message).join('; ')));
      if (patched.resourceType !== resourceType || patched.id !== id) throw new OperationOutcomeError(badRequest('A patch may not change resourceType or id'));
      return this.storeVersion(patched, current);
    });
  }

  /**
   * A deletion is a version of its own (FHIR: the history keeps it, with no resource): a tombstone
   * with the next version number and a write instant goes in the log. The earlier versions stay in
   * medplum's store for the history; `current` answers "gone" for the resource.
   */
  override deleteResource(resourceType: string, id: string): Promise<void> {
    return this.exclusive(async () => {
      const key = keyOf(resourceType, id);
      const current = await this.current(resourceType, id);
      if (!current) throw new OperationOutcomeError(notFound);
      const previous = Number(current.meta?.versionId ?? '0');
      const version = String(Number.isFinite(previous) ? previous + 1 : 2);
      this.written.set(key, DELETED);
      this.tombstones.set(key, version);
      this.markSeedWritten(resourceType, id);
      this.appendToLog({ ms: Date.parse(this.nextWriteInstant()), key, version, deleted: true });
    });
  }

  /** Search, then create, with no other write in between (the base class interleaves). */
  override conditionalCreate<T extends Resource>(
    resource: T,
    search: SearchRequest<T>,
    options?: CreateResourceOptions,
  ): Promise<{ resource: WithId<T>; outcome: OperationOutcome }> {
    return this.exclusive(async () => {
      if (search.resourceType !== resource.resourceType) throw new OperationOutcomeError(badRequest('Search type must match resource type for conditional create'));
      if (!search.filters?.length) throw new OperationOutcomeError(badRequest('If-None-Exist needs search criteria'));
      const page = await this.searchPage({ ...search, count: 2, offset: 0, sortRules: undefined, cursor: undefined });
      if (page.resources.length > 1) throw new OperationOutcomeError(multipleMatches);
      const existing = page.resources[0];
      if (existing) return { resource: existing as WithId<T>, outcome: allOk };
      return { resource: await this.insert(resource, options), outcome: created };
    });
  }

  override async search<T extends Resource>(searchRequest: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    const page = await this.searchPage(searchRequest);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(page.total !== undefined ? { total: page.total } : {}),
      ...(page.resources.length ? { entry: page.resources.map((resource) => ({ resource: resource as WithId<T> })) } : {}),
    };
  }

  // ---------------------------------------------------------------- simulator controls

  /** How many writes carried this idempotency key (operation identifier on create, tag on update). */
  effects(idempotencyKey: string): number {
    return this.effectCounts.get(idempotencyKey) ?? 0;
  }

  /** Number of resources held: seeded (live or virtual) plus created since start. */
  size(): { seeded: number; created: number; written: number } {
    let createdCount = 0;
    for (const keys of this.createdByType.values()) createdCount += keys.length;
    return { seeded: this.seedMs.length, created: createdCount, written: this.written.size };
  }

  /** Live-or-seeded resources of the given types (default: all but Patient), deletions aside. */
  eligibleCount(types?: readonly string[]): number {
    const eligible = (type: string) => (types ? types.includes(type) : type !== 'Patient');
    const eligibleTypes = new Set(this.typeNames.filter(eligible).map((name) => this.typeIndex.get(name)!));
    let n = 0;
    for (let i = 0; i < this.seedType.length; i++) if (eligibleTypes.has(this.seedType[i]!)) n++;
    for (const [type, keys] of this.createdByType) if (eligible(type)) n += keys.length;
    return n;
  }

  /**
   * Picks up to `count` distinct live resources of the given types (default: all but Patient) with
   * a seeded random stream, for `mutate`. Seeded and created records are equally likely.
   */
  async pickForChange(count: number, random: () => number, types?: readonly string[]): Promise<Resource[]> {
    const eligible = (type: string) => (types ? types.includes(type) : type !== 'Patient');
    const created = [...this.createdByType].filter(([type]) => eligible(type)).flatMap(([, keys]) => keys);
    const space = this.seedMs.length + created.length;
    const chosen: Resource[] = [];
    const seen = new Set<string>();
    for (let attempts = 0; chosen.length < count && attempts < count * 50 + 100 && space > 0; attempts++) {
      const at = Math.floor(random() * space);
      const key = at < this.seedMs.length ? this.seedKeyAtPosition(at) : created[at - this.seedMs.length]!;
      const type = key.slice(0, key.indexOf('/'));
      if (!eligible(type) || seen.has(key)) continue;
      seen.add(key);
      const resource = await this.current(type, key.slice(type.length + 1));
      if (resource) chosen.push(resource);
    }
    return chosen;
  }

  /** Stores a resource exactly as given — no contract, no versioning — to test how clients cope. */
  async putRaw(resource: Resource & { id: string }): Promise<void> {
    await this.exclusive(async () => {
      const previous = await this.current(resource.resourceType, resource.id);
      const stored = await super.createResource(resource);
      this.recordWrite(stored, previous);
    });
  }

  // ---------------------------------------------------------------- search

  async searchPage(request: SearchRequest): Promise<SearchPage> {
    const types = request.resourceType === ('MultipleTypes' as string) ? (request.types ?? []) : [request.resourceType];
    if (!types.length) throw new OperationOutcomeError(badRequest('No types specified'));
    const count = Math.max(0, Math.min(request.count ?? DEFAULT_COUNT, MAX_COUNT));
    const offset = Math.max(0, request.offset ?? 0);
    const sort = this.sortOf(request);
    const keyset = request.cursor ? decodeKeyset(request.cursor) : undefined;
    if (request.cursor && (!keyset || sort !== 'lastUpdated')) throw new OperationOutcomeError(badRequest('_cursor works with _sort=_lastUpdated only'));

    const filters = request.filters ?? [];
    for (const filter of filters) {
      for (const type of types) {
        if (!getSearchParameter(type, filter.code)) throw new OperationOutcomeError(badRequest(`Unknown search parameter ${filter.code} for ${type}`));
      }
    }
    const bounds = lastUpdatedBounds(filters);
    const matches = (resource: Resource) => this.matchesAll(resource, filters, bounds);

    const candidates = await this.indexedCandidates(types, filters, bounds);
    if (candidates) {
      let found = candidates.filter(matches);
      if (sort === 'lastUpdated' || sort === '-lastUpdated') {
        found.sort((a, b) => compareByLastUpdated(a, b) * (sort === '-lastUpdated' ? -1 : 1));
      } else if (sort === 'id') found.sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0));
      else {
        // Unsorted: order by "Type/id", which no update changes, so `_offset` pages over an OR-list
        // of many patients neither repeat nor skip a record that is edited while a client pages.
        found.sort((a, b) => {
          const ka = keyOf(a.resourceType, a.id!);
          const kb = keyOf(b.resourceType, b.id!);
          return ka < kb ? -1 : ka > kb ? 1 : 0;
        });
      }
      const total = found.length;
      if (keyset) found = found.filter((r) => before(keyset.ms, keyset.key, msOf(r), keyOf(r.resourceType, r.id!)));
      const page = found.slice(offset, offset + count);
      return this.pageOf(page, found.length > offset + count, total);
    }

    // No index narrows it: walk everything of these types in (lastUpdated, key) order.
    const typeSet = new Set(types);
    if (sort === 'lastUpdated' || sort === 'none') {
      const page: Resource[] = [];
      let skipped = 0;
      let hasMore = false;
      let total = 0;
      const wantTotal = request.total === 'accurate';
      const start = keyset ?? (bounds.lower ? { ms: bounds.lower.ms, key: '', inclusive: bounds.lower.inclusive } : undefined);
      for await (const resource of this.inLastUpdatedOrder(typeSet, start, bounds.upper)) {
        if (!matches(resource)) continue;
        total++;
        if (skipped < offset) {
          skipped++;
          continue;
        }
        if (page.length < count) page.push(resource);
        else {
          hasMore = true;
          if (!wantTotal) break;
        }
      }
      return this.pageOf(page, hasMore, wantTotal ? total : undefined);
    }
    const all: Resource[] = [];
    for await (const resource of this.inLastUpdatedOrder(typeSet, undefined, bounds.upper)) if (matches(resource)) all.push(resource);
    if (sort === '-lastUpdated') all.reverse();
    else all.sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0));
    return this.pageOf(all.slice(offset, offset + count), all.length > offset + count, all.length);
  }

  private pageOf(resources: Resource[], hasMore: boolean, total: number | undefined): SearchPage {
    const last = resources.at(-1);
    return {
      resources: resources as WithId<Resource>[],
      hasMore,
      ...(total !== undefined ? { total } : {}),
      ...(last ? { cursorAfterLast: encodeKeyset(msOf(last), keyOf(last.resourceType, last.id!)) } : {}),
    };
  }

  private sortOf(request: SearchRequest): 'none' | 'lastUpdated' | '-lastUpdated' | 'id' {
    const rules = request.sortRules ?? [];
    if (!rules.length) return 'none';
    const [rule, ...rest] = rules;
    // A trailing _id is the tie-breaker we always apply anyway.
    if (rest.length > 1 || (rest[0] && rest[0].code !== '_id')) throw new OperationOutcomeError(badRequest('Sorting supports _lastUpdated (with _id as tie-breaker) or _id'));
    if (rule!.code === '_lastUpdated') return rule!.descending ? '-lastUpdated' : 'lastUpdated';
    if (rule!.code === '_id' && !rule!.descending) return 'id';
    throw new OperationOutcomeError(badRequest(`Sorting by ${rule!.descending ? '-' : ''}${rule!.code} is not supported`));
  }

  /** Candidates from an index, or undefined when no filter has one (then the caller walks all). */
  private async indexedCandidates(types: readonly string[], filters: readonly Filter[], bounds: Bounds): Promise<Resource[] | undefined> {
    // A seeded record not written since keeps its seeded lastUpdated; a lower bound after the newest
    // of those (a client reading changes since its last pull) can only match written records, which
    // the indexes hold, so the citizens' seeded records need not be generated to be filtered out.
    const seedsCanMatch = !bounds.lower || bounds.lower.ms <= (this.seedMs[this.seedMs.length - 1] ?? -Infinity);
    const keys = new Set<string>();
    const equals = (code: string) => filters.find((f) => f.code === code && f.operator === Operator.EQUALS);
    const idFilter = equals('_id');
    const identifierFilter = equals('identifier');
    const referenceFilter = equals('subject') ?? equals('patient');
    if (idFilter) {
      for (const type of types) for (const id of idFilter.value.split(',')) keys.add(keyOf(type, id.trim()));
    } else if (identifierFilter) {
      for (const value of identifierFilter.value.split(',')) {
        const [system, code] = value.includes('|') ? (value.split('|', 2) as [string, string]) : ['', value];
        for (const type of types) {
          for (const key of this.identifierIndex.get(`${type}|${system}|${code}`.toLowerCase()) ?? []) keys.add(key);
          if (!value.includes('|')) for (const k of this.identifierCodeIndex.get(`${type}|${code}`.toLowerCase()) ?? []) keys.add(k);
          if (type === 'Patient') {
            const ordinal = this.seedSource.ordinalOfCpr(code);
            if (ordinal !== undefined) keys.add(keyOf('Patient', this.seedIdOf(ordinal, 0)));
          }
        }
      }
    } else if (referenceFilter) {
      for (const raw of referenceFilter.value.split(',')) {
        const reference = raw.includes('/') ? raw : `Patient/${raw}`;
        const [refType, refId] = reference.split('/', 2) as [string, string];
        for (const type of types) for (const key of this.referenceIndex.get(`${type}|${reference}`) ?? []) keys.add(key);
        const seeded = refType === 'Patient' && seedsCanMatch ? this.seedLocate('Patient', refId) : undefined;
        if (seeded && seeded.slot === 0) {
          for (const record of this.citizenRecords(seeded.ordinal)) if (types.includes(record.resourceType)) keys.add(keyOf(record.resourceType, record.id!));
        }
      }
    } else {
      return undefined;
    }
    const resources: Resource[] = [];
    for (const key of keys) {
      const [type, id] = key.split('/', 2) as [string, string];
      if (!types.includes(type)) continue;
      const resource = await this.current(type, id);
      if (resource) resources.push(resource);
    }
    return resources;
  }

  /**
   * Every filter holds. The indexed ones are checked here with FHIR's token and reference rules;
   * any other filter goes to medplum's `matchesSearchRequest`, which needs the R4 resource profiles
   * to type the elements, so those are loaded on first use only.
   */
  private matchesAll(resource: Resource, filters: readonly Filter[], bounds: Bounds): boolean {
    const ms = msOf(resource);
    if (bounds.lower && (ms < bounds.lower.ms || (!bounds.lower.inclusive && ms === bounds.lower.ms))) return false;
    if (bounds.upper && (ms > bounds.upper.ms || (!bounds.upper.inclusive && ms === bounds.upper.ms))) return false;
    const rest: Filter[] = [];
    for (const filter of filters) {
      if (filter.code === '_lastUpdated' && boundOperators.has(filter.operator)) continue;
      const native = filter.operator === Operator.EQUALS ? nativeMatch(resource, filter) : undefined;
      if (native === false) return false;
      if (native === undefined) rest.push(filter);
    }
    if (!rest.length) return true;
    loadProfiles();
    return matchesSearchRequest(resource, { resourceType: resource.resourceType, filters: rest });
  }

  /** Live resources of the given types in (lastUpdated, key) order, after `start` and within `upper`. */
  private async *inLastUpdatedOrder(
    types: ReadonlySet<string>,
    start: { ms: number; key: string; inclusive?: boolean } | undefined,
    upper: Bounds['upper'],
  ): AsyncGenerator<Resource> {
    const afterStart = (ms: number, key: string) =>
      !start || (start.key === '' ? (start.inclusive ? ms >= start.ms : ms > start.ms) : before(start.ms, start.key, ms, key));
    const withinUpper = (ms: number) => !upper || ms < upper.ms || (upper.inclusive && ms === upper.ms);

    let s = start ? this.firstSeedPositionFrom(start.ms) : 0;
    let l = start ? this.firstLogPositionFrom(start.ms) : 0;
    while (s < this.seedMs.length || l < this.writeLog.length) {
      const seedMs = s < this.seedMs.length ? this.seedMs[s]! : Infinity;
      const logEntry = this.writeLog[l];
      const logMs = logEntry ? logEntry.ms : Infinity;
      if (!withinUpper(Math.min(seedMs, logMs))) return;
      // Keys (three hashes each) are only built where lastUpdated ties.
      const takeSeed = seedMs !== Infinity && (!logEntry || seedMs < logMs || (seedMs === logMs && this.seedKeyAtPosition(s) < logEntry.key));
      if (takeSeed) {
        const position = s++;
        const type = this.typeNames[this.seedType[position]!]!;
        const ordinal = this.seedOrdinal[position]!;
        const slot = this.seedSlot[position]!;
        if (!types.has(type) || this.seedWritten[this.ordinalStart[ordinal]! + slot]) continue;
        if (start && seedMs === start.ms && !afterStart(seedMs, this.seedKeyAtPosition(position))) continue;
        if (start && seedMs < start.ms) continue;
        const record = this.citizenRecords(ordinal)[slot];
        if (record) yield this.seeding === 'eager' ? await super.readResource(type, record.id!) : record;
      } else {
        const entry = logEntry!;
        l++;
        const type = entry.key.slice(0, entry.key.indexOf('/'));
        if (!types.has(type) || this.written.get(entry.key) !== entry.version || !afterStart(entry.ms, entry.key)) continue;
        yield await super.readResource(type, entry.key.slice(type.length + 1));
      }
    }
  }

  /**
   * The history of the given types (FHIR `_history` at type or system level), newest first, as R4
   * orders it: every version written (seeded version 1s included) and every deletion, with `since`
   * (ms, inclusive as `_since` is) as the oldest instant and `after` (a position this method issued)
   * to go on strictly older than the last entry of the page before. Keyset paging, so versions
   * written while a client pages come before its first page rather than shifting the pages.
   */
  async historyPage(types: ReadonlySet<string>, options: { since?: number; count: number; after?: string }): Promise<HistoryPage> {
    const count = Math.max(0, Math.min(options.count, MAX_COUNT));
    const from = options.after === undefined ? undefined : decodeHistoryPosition(options.after);
    if (options.after !== undefined && !from) throw new OperationOutcomeError(badRequest('Invalid history paging position'));
    const since = options.since ?? -Infinity;
    const olderThanFrom = (ms: number, key: string, version: string) =>
      !from || ms < from.ms || (ms === from.ms && (key < from.key || (key === from.key && Number(version) < Number(from.version))));
    let s = (from ? this.firstSeedPositionFrom(from.ms + 1) : this.seedMs.length) - 1;
    let l = (from ? this.firstLogPositionFrom(from.ms + 1) : this.writeLog.length) - 1;
    const entries: HistoryEntry[] = [];
    let hasMore = false;
    while (s >= 0 || l >= 0) {
      const seedMs = s >= 0 ? this.seedMs[s]! : -Infinity;
      const logEntry = l >= 0 ? this.writeLog[l] : undefined;
      const logMs = logEntry ? logEntry.ms : -Infinity;
      if (Math.max(seedMs, logMs) < since) break;
      // Newest first; at one instant by "Type/id" descending, a written version before the seeded one of the same record.
      const takeSeed = seedMs !== -Infinity && (!logEntry || seedMs > logMs || (seedMs === logMs && this.seedKeyAtPosition(s) > logEntry.key));
      let entry: Omit<HistoryEntry, 'resource'> & { content: () => Promise<Resource | undefined> };
      if (takeSeed) {
        const position = s--;
        const type = this.typeNames[this.seedType[position]!]!;
        if (!types.has(type)) continue;
        const key = this.seedKeyAtPosition(position);
        const record = this.citizenRecords(this.seedOrdinal[position]!)[this.seedSlot[position]!]!;
        entry = { resourceType: type, id: key.slice(type.length + 1), version: '1', lastUpdated: new Date(seedMs).toISOString(), deleted: false, content: async () => record };
      } else {
        l--;
        const { ms, key, version, deleted } = logEntry!;
        const type = key.slice(0, key.indexOf('/'));
        if (!types.has(type)) continue;
        const id = key.slice(type.length + 1);
        entry = {
          resourceType: type, id, version, lastUpdated: new Date(ms).toISOString(), deleted: deleted === true,
          content: async () => (deleted ? undefined : this.written.get(key) === version ? this.current(type, id) : this.storedVersion(type, id, version)),
        };
      }
      if (!olderThanFrom(Date.parse(entry.lastUpdated), `${entry.resourceType}/${entry.id}`, entry.version)) continue;
      if (entries.length === count) {
        hasMore = true;
        break;
      }
      const { content, ...rest } = entry;
      const resource = await content();
      entries.push(resource ? { ...rest, resource } : rest);
    }
    const last = entries.at(-1);
    return { entries, hasMore, ...(last ? { cursorAfterLast: encodeHistoryPosition(Date.parse(last.lastUpdated), `${last.resourceType}/${last.id}`, last.version) } : {}) };
  }

  /**
   * An earlier version of a resource as medplum stored it. Its public `readVersion` asks for the
   * current resource first, which a deleted one no longer has; its version list (a private field,
   * read in @medplum/fhir-router 4.5.2) still holds them all.
   */
  private storedVersion(resourceType: string, id: string, version: string): Resource {
    const history = (this as unknown as { history?: Map<string, Map<string, Resource[]>> }).history;
    const found = history?.get(resourceType)?.get(id)?.find((v) => v.meta?.versionId === version);
    if (!found) throw new Error(`the simulator lost version ${version} of ${resourceType}/${id}`);
    return structuredClone(found);
  }

  private firstSeedPositionFrom(ms: number): number {
    let lo = 0;
    let hi = this.seedMs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seedMs[mid]! < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private firstLogPositionFrom(ms: number): number {
    let lo = 0;
    let hi = this.writeLog.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.writeLog[mid]!.ms < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---------------------------------------------------------------- internals

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(work, work);
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /** Stores `resource` as the version after `current` (or as version 1 of a new id). Call inside `exclusive`. */
  private async storeVersion<T extends Resource>(resource: T, current: Resource | undefined): Promise<WithId<T>> {
    const previous = Number(current?.meta?.versionId ?? this.tombstones.get(keyOf(resource.resourceType, resource.id ?? '')) ?? '0');
    const versionId = String(Number.isFinite(previous) ? previous + 1 : 2);
    const stored = await super.createResource<T>({ ...resource, meta: { ...resource.meta, versionId, lastUpdated: this.nextWriteInstant() } });
    this.recordWrite(stored, current);
    return stored;
  }

  private async insert<T extends Resource>(resource: T, options?: CreateResourceOptions): Promise<WithId<T>> {
    // The server assigns the id on create; only batch processing may bring its own.
    const id = options?.assignedId && resource.id ? resource.id : this.generateId();
    const stored = await super.createResource<T>({ ...resource, id, meta: { ...resource.meta, versionId: '1', lastUpdated: this.nextWriteInstant() } });
    this.recordWrite(stored, undefined);
    return stored;
  }

  private nextWriteInstant(): string {
    const now = this.clock();
    this.lastWriteMs = this.strictlyIncreasing ? Math.max(now, this.lastWriteMs + 1) : Math.max(now, this.lastWriteMs);
    return new Date(this.lastWriteMs).toISOString();
  }

  private recordWrite(stored: Resource, previous: Resource | undefined): void {
    const key = keyOf(stored.resourceType, stored.id!);
    const isNew = !previous && !this.written.has(key) && !this.seedLocate(stored.resourceType, stored.id!);
    const version = stored.meta!.versionId!;
    this.written.set(key, version);
    this.markSeedWritten(stored.resourceType, stored.id!);
    this.appendToLog({ ms: msOf(stored), key, version });
    if (isNew) {
      const list = this.createdByType.get(stored.resourceType) ?? [];
      list.push(key);
      this.createdByType.set(stored.resourceType, list);
    }
    const record = stored as Resource & { identifier?: { system?: string; value?: string }[]; subject?: { reference?: string }; patient?: { reference?: string } };
    for (const identifier of record.identifier ?? []) {
      if (!identifier.value) continue;
      addTo(this.identifierIndex, `${stored.resourceType}|${identifier.system ?? ''}|${identifier.value}`.toLowerCase(), key);
      addTo(this.identifierCodeIndex, `${stored.resourceType}|${identifier.value}`.toLowerCase(), key);
    }
    for (const reference of [record.subject?.reference, record.patient?.reference]) {
      if (reference) addTo(this.referenceIndex, `${stored.resourceType}|${reference}`, key);
    }
    // Effects per idempotency key: a create carrying an operation identifier, or an update whose
    // operation tag is new compared with the version before it.
    if (!previous) {
      for (const identifier of record.identifier ?? []) {
        if (identifier.system === ENPLAN_OPERATION_SYSTEM && identifier.value) this.effectCounts.set(identifier.value, this.effects(identifier.value) + 1);
      }
    }
    const previousTags = new Set((previous?.meta?.tag ?? []).filter((t) => t.system === ENPLAN_OPERATION_TAG_SYSTEM).map((t) => t.code));
    for (const tag of stored.meta?.tag ?? []) {
      if (tag.system === ENPLAN_OPERATION_TAG_SYSTEM && tag.code && !previousTags.has(tag.code)) this.effectCounts.set(tag.code, this.effects(tag.code) + 1);
    }
  }

  /** Keeps the log in (ms, key) order; with a strictly increasing clock this is always an append. */
  private appendToLog(entry: LogEntry): void {
    let at = this.writeLog.length;
    while (at > 0 && before(entry.ms, entry.key, this.writeLog[at - 1]!.ms, this.writeLog[at - 1]!.key)) at--;
    this.writeLog.splice(at, 0, entry);
  }

  /** The live version of a resource: written (in the MemoryRepository) or seeded (stored or virtual). */
  private async current(resourceType: string, id: string): Promise<Resource | undefined> {
    const key = keyOf(resourceType, id);
    const version = this.written.get(key);
    if (version === DELETED) return undefined;
    if (version !== undefined || this.seeding === 'eager') {
      try {
        return await super.readResource(resourceType, id);
      } catch (error) {
        if (error instanceof OperationOutcomeError && error.outcome.issue?.[0]?.code === 'not-found') return undefined;
        throw error;
      }
    }
    return this.seedRecord(resourceType, id);
  }

  private markSeedWritten(resourceType: string, id: string): void {
    const located = this.seedLocate(resourceType, id);
    if (located) this.seedWritten[this.ordinalStart[located.ordinal]! + located.slot] = 1;
  }

  private seedRecord(resourceType: string, id: string): Resource | undefined {
    const located = this.seedLocate(resourceType, id);
    return located ? this.citizenRecords(located.ordinal)[located.slot] : undefined;
  }

  /** Where a seeded id lives, if it is one: decoded from the id, then confirmed by recomputing it. */
  private seedLocate(resourceType: string, id: string): { ordinal: number; slot: number } | undefined {
    const decoded = decodeSeedId(id);
    if (!decoded || decoded.ordinal >= this.seedSource.size) return undefined;
    if (this.seedIdOf(decoded.ordinal, decoded.slot) !== id) return undefined;
    const record = this.citizenRecords(decoded.ordinal)[decoded.slot];
    return record && record.resourceType === resourceType ? decoded : undefined;
  }

  private seedIdOf(ordinal: number, slot: number): string {
    return seedId(this.seedSource.seed, this.seedSource.sector, ordinal, slot);
  }

  private seedKeyAt(type: number, ordinal: number, slot: number): string {
    return keyOf(this.typeNames[type]!, this.seedIdOf(ordinal, slot));
  }

  private seedKeyAtPosition(position: number): string {
    return this.seedKeyAt(this.seedType[position]!, this.seedOrdinal[position]!, this.seedSlot[position]!);
  }

  /**
   * A citizen's seeded records, with a small cache (a pull, and a walk in lastUpdated order, read the
   * same citizen several times in a row). They are deep-frozen and handed out without copying: a
   * caller that tried to edit one would throw instead of silently changing the seed.
   */
  private citizenRecords(ordinal: number): Resource[] {
    const cached = this.recentCitizens.get(ordinal);
    if (cached) return cached;
    const records = this.seedSource.recordsOf(ordinal).map(deepFreeze);
    if (this.recentCitizens.size >= 256) this.recentCitizens.delete(this.recentCitizens.keys().next().value!);
    this.recentCitizens.set(ordinal, records);
    return records;
  }

  private typeId(resourceType: string): number {
    let id = this.typeIndex.get(resourceType);
    if (id === undefined) {
      id = this.typeNames.length;
      if (id > 255) throw new Error('too many resource types for the seed index');
      this.typeNames.push(resourceType);
      this.typeIndex.set(resourceType, id);
    }
    return id;
  }
}

const boundOperators = new Set<string>([Operator.GREATER_THAN, Operator.GREATER_THAN_OR_EQUALS, Operator.LESS_THAN, Operator.LESS_THAN_OR_EQUALS, Operator.STARTS_AFTER, Operator.ENDS_BEFORE]);

/** `_lastUpdated` range filters as bounds, with medplum's reading of partial dates (toPeriod). */
function lastUpdatedBounds(filters: readonly Filter[]): Bounds {
  const bounds: Bounds = {};
  const tighterLower = (ms: number, inclusive: boolean) => {
    if (!bounds.lower || ms > bounds.lower.ms || (ms === bounds.lower.ms && !inclusive)) bounds.lower = { ms, inclusive };
  };
  const tighterUpper = (ms: number, inclusive: boolean) => {
    if (!bounds.upper || ms < bounds.upper.ms || (ms === bounds.upper.ms && !inclusive)) bounds.upper = { ms, inclusive };
  };
  for (const filter of filters) {
    if (filter.code !== '_lastUpdated' || !boundOperators.has(filter.operator)) continue;
    const period = toPeriod(filter.value);
    const start = period?.start ? Date.parse(period.start) : NaN;
    const end = period?.end ? Date.parse(period.end) : NaN;
    if (Number.isNaN(start) || Number.isNaN(end)) throw new OperationOutcomeError(badRequest(`Invalid _lastUpdated value ${filter.value}`));
    switch (filter.operator) {
      case Operator.GREATER_THAN:
      case Operator.STARTS_AFTER:
        tighterLower(end, false);
        break;
      case Operator.GREATER_THAN_OR_EQUALS:
        tighterLower(start, true);
        break;
      case Operator.LESS_THAN:
      case Operator.ENDS_BEFORE:
        tighterUpper(start, false);
        break;
      case Operator.LESS_THAN_OR_EQUALS:
        tighterUpper(end, true);
        break;
    }
  }
  return bounds;
}

type Searchable = Resource & {
  identifier?: { system?: string; value?: string }[];
  subject?: { reference?: string };
  patient?: { reference?: string };
};

/** The OR-list of an indexed filter, parsed once per search rather than once per resource checked. */
type ParsedFilter =
  | { code: '_id'; ids: ReadonlySet<string> }
  /** Token values by lowercased code → the systems asked with it (undefined: any, '': none); plus `system|` (any code). */
  | { code: 'identifier'; byValue: ReadonlyMap<string, readonly (string | undefined)[]>; anyValueOf: ReadonlySet<string> }
  | { code: 'subject' | 'patient'; references: ReadonlySet<string> };

const parsedFilters = new WeakMap<Filter, ParsedFilter>();

function parseFilter(filter: Filter): ParsedFilter | undefined {
  const cached = parsedFilters.get(filter);
  if (cached) return cached;
  const values = filter.value.split(',');
  let parsed: ParsedFilter;
  switch (filter.code) {
    case '_id':
      parsed = { code: '_id', ids: new Set(values) };
      break;
    case 'identifier': {
      const byValue = new Map<string, (string | undefined)[]>();
      const anyValueOf = new Set<string>();
      for (const value of values) {
        const bar = value.indexOf('|');
        const system = bar < 0 ? undefined : value.slice(0, bar).toLowerCase();
        const code = (bar < 0 ? value : value.slice(bar + 1)).toLowerCase();
        if (system && !code) anyValueOf.add(system);
        else {
          const systems = byValue.get(code) ?? [];
          systems.push(system);
          byValue.set(code, systems);
        }
      }
      parsed = { code: 'identifier', byValue, anyValueOf };
      break;
    }
    case 'subject':
    case 'patient':
      parsed = { code: filter.code, references: new Set(values.map((value) => (value.includes('/') ? value : `Patient/${value}`))) };
      break;
    default:
      return undefined;
  }
  parsedFilters.set(filter, parsed);
  return parsed;
}

/** FHIR search rules for `_id`, `identifier` (token) and `subject`/`patient` (reference), with comma OR-lists; undefined = not ours. */
function nativeMatch(resource: Resource, filter: Filter): boolean | undefined {
  const parsed = parseFilter(filter);
  if (!parsed) return undefined;
  const record = resource as Searchable;
  switch (parsed.code) {
    case '_id':
      return parsed.ids.has(resource.id ?? '');
    case 'identifier':
      return (record.identifier ?? []).some((identifier) => {
        const idSystem = identifier.system?.toLowerCase();
        if (idSystem && parsed.anyValueOf.has(idSystem)) return true;
        const idValue = identifier.value?.toLowerCase();
        const systems = idValue === undefined ? undefined : parsed.byValue.get(idValue);
        return !!systems?.some((system) => system === undefined || (system === '' ? !idSystem : idSystem === system));
      });
    case 'subject':
    case 'patient': {
      const own = parsed.code === 'patient' ? (record.patient?.reference ?? record.subject?.reference) : record.subject?.reference;
      if (parsed.code === 'patient' && own && !own.startsWith('Patient/')) return false;
      return own !== undefined && parsed.references.has(own);
    }
  }
}

const msOf = (resource: Resource) => Date.parse(resource.meta?.lastUpdated ?? '');

function compareByLastUpdated(a: Resource, b: Resource): number {
  const ka = keyOf(a.resourceType, a.id!);
  const kb = keyOf(b.resourceType, b.id!);
  return before(msOf(a), ka, msOf(b), kb) ? -1 : before(msOf(b), kb, msOf(a), ka) ? 1 : 0;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}
