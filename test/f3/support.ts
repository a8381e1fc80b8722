/**
 * What the F3 suites share: the corpus (manifest, files, recipes), in-memory stand-ins for the
 * sector systems' HTTP answers (so the real adapters read them), a CPR detector for reasons and
 * answers, a database snapshot for "nothing stored", and fast-check runs with a fixed seed whose
 * failure report names the seed and never prints a CPR number.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { CPR_SYSTEM } from '../../adapters/fhir/systems';
import type { Database } from '../../src/store/db';
import type { CorpusCase, Recipe } from '../fixtures/f3/generate';

export type { CorpusCase } from '../fixtures/f3/generate';

const corpusDir = join(import.meta.dirname, '../fixtures/f3');

export function loadCorpus(): CorpusCase[] {
  return (JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as { cases: CorpusCase[] }).cases;
}

/** The bytes of a case; a `.recipe.json` is expanded (multi-megabyte bodies are not committed as such). */
export function caseBytes(entry: Pick<CorpusCase, 'file'>): Uint8Array {
  const raw = readFileSync(join(corpusDir, entry.file));
  if (!entry.file.endsWith('.recipe.json')) return new Uint8Array(raw);
  const recipe = JSON.parse(raw.toString('utf8')) as Recipe;
  const [before, after] = recipe.template.split('@@FILL@@') as [string, string];
  return new TextEncoder().encode(before + recipe.fill.repeat(recipe.repeat) + (recipe.middle ?? '') + (recipe.close ?? '').repeat(recipe.repeat) + after);
}

export const caseText = (entry: Pick<CorpusCase, 'file'>) => new TextDecoder().decode(caseBytes(entry));

/**
 * Shaped like a CPR number by the rule of the whole test run's S4 check (scripts/run-tests.mjs):
 * ten digits, optionally DDMMYY-SSSS, standing alone, whose first six are a real date. (A bare
 * "ten digits" rule would flag digit runs inside random UUIDs.)
 */
const CPR_LIKE = /(?<![\w.:-])(\d{6})-?(\d{4})(?![\w.:-])/g;
function realDate(digits: string): boolean {
  const day = Number(digits.slice(0, 2));
  const month = Number(digits.slice(2, 4));
  const date = new Date(Date.UTC(1900 + Number(digits.slice(4, 6)), month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
export const hasCprLike = (text: string) => [...text.matchAll(CPR_LIKE)].some((m) => realDate(m[1]!));
/** For failure reports: every ten-digit run masked, dates or not. */
export const redacted = (text: string) => text.replace(/\d{6}-?\d{4}/g, '[cpr]');

/** A reason IT staff can read: a sentence, not a stack trace, not a dump, no CPR number. */
export function readableReasonProblems(reason: string): string[] {
  const problems: string[] = [];
  if (reason.trim().length < 10) problems.push('shorter than 10 characters');
  if (reason.length > 1_000) problems.push(`${reason.length} characters long`);
  if (/\n\s+at /.test(reason)) problems.push('holds a stack trace');
  if (hasCprLike(reason)) problems.push('holds a CPR-like number');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

export const FUZZ_SEED = Number(process.env.F3_SEED ?? 20_261_123);

/**
 * `fc.check` with the suite's fixed seed. A failure throws with the seed, the replay path and the
 * counterexample — CPR-like numbers masked, long values cut — so a rerun with
 * `F3_SEED=<seed>` reproduces it and the test output stays free of CPR numbers (S4).
 */
export async function fuzz<T>(what: string, arbitrary: fc.Arbitrary<T>, property: (value: T) => void | Promise<void>, numRuns: number): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arbitrary, async (value) => { await property(value); }), { seed: FUZZ_SEED, numRuns, endOnFailure: true });
  if (!details.failed) {
    if (details.numRuns < numRuns) throw new Error(`${what}: only ${details.numRuns} of ${numRuns} runs happened`);
    return;
  }
  let shown: string;
  try {
    shown = fc.stringify(details.counterexample?.[0]);
  } catch {
    shown = '(not printable)';
  }
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `${what} failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}"; rerun with F3_SEED=${details.seed}):\n` +
      `  ${redacted(error).slice(0, 600)}\n  counterexample: ${redacted(shown).slice(0, 600)}`,
  );
}

/** Mutations of a golden record: replace, delete or retype a few of its fields, at any depth. */
export function nearlyValid(bases: readonly unknown[], leaf: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const edit = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.oneof(fc.constant(undefined), leaf));
  return fc.tuple(fc.nat({ max: bases.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([index, edits]) => {
    const record = structuredClone(bases[index]);
    for (const [path, value] of edits) {
      let node: unknown = record;
      for (let depth = 0; depth < path.length; depth++) {
        if (!node || typeof node !== 'object') break;
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = keys[path[depth]! % keys.length]!;
        const parent = node as Record<string, unknown>;
        if (depth === path.length - 1 || typeof parent[key] !== 'object' || parent[key] === null) {
          if (value === undefined) delete parent[key];
          else parent[key] = value;
          break;
        }
        node = parent[key];
      }
    }
    return record;
  });
}

/** Values that trip parsers and contracts: wrong types, near-misses of dates, CPRs and codes. */
export const nastyLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '0', '-1', '1.5', '1e400', 'NaN', 'true', 'null', '2026-02-30', '2026-13-01', '2025-02-29T24:00:00Z', '3102991234', '0113901234', 'ukendt', '\u0000', '\uFEFF', '\ud800', 'Ã¦Ã¸Ã¥', '<x/>', '&lol;', '{"a":1}'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
);

// ---------------------------------------------------------------------------------------------
// Sector systems served from memory

/** A `fetch` for the SOAP adapters that answers every call with these bytes (HTTP 200, text/xml). */
export function soapReplyFetch(reply: () => Uint8Array | string): typeof fetch {
  return (async () => new Response(reply(), { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' } })) as typeof fetch;
}

export const FHIR_PATIENT_ID = 'f3-patient';
const fhirJson = { 'content-type': 'application/fhir+json; charset=utf-8' };
const emptyBundle = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] });

/**
 * Stands in for a FHIR server behind the global fetch (fhir-kit-client calls it per request): the
 * Patient search finds one Patient carrying `cpr`; a search of `recordType` answers `page()`; every
 * other search answers an empty Bundle. Returns a function that puts the real fetch back.
 */
export function serveFhirFromMemory(options: { cpr: string; recordType: () => string; page: () => Uint8Array | string }): () => void {
  const realFetch = globalThis.fetch;
  const patient = { resourceType: 'Patient', id: FHIR_PATIENT_ID, meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00Z' }, identifier: [{ system: CPR_SYSTEM, value: options.cpr }] };
  const patientPage = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: patient }] });
  globalThis.fetch = (async (input: Request | string | URL) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const type = url.pathname.split('/').filter(Boolean).at(-1) === '_search' ? url.pathname.split('/').filter(Boolean).at(-2) : url.pathname.split('/').filter(Boolean).at(-1);
    if (type === 'Patient') return new Response(patientPage, { headers: fhirJson });
    if (type === options.recordType()) return new Response(options.page(), { headers: fhirJson });
    return new Response(emptyBundle, { headers: fhirJson });
  }) as typeof fetch;
  return () => {
    globalThis.fetch = realFetch;
  };
}

/** A search page holding one resource, its patient reference pointed at the served Patient. */
export function pageWith(resource: unknown, patientParam: 'subject' | 'patient'): string {
  if (resource && typeof resource === 'object' && !Array.isArray(resource)) {
    const owner = (resource as Record<string, unknown>)[patientParam];
    if (owner && typeof owner === 'object' && !Array.isArray(owner)) (owner as Record<string, unknown>).reference = `Patient/${FHIR_PATIENT_ID}`;
  }
  return JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource }] });
}

// ---------------------------------------------------------------------------------------------
// The database

const TABLES = ['applied_records', 'audit_log', 'audit_heads', 'citizens', 'consents', 'inbound_webhooks', 'outbox', 'plan_members', 'plans', 'quarantine', 'registrations', 'subscriptions', 'subscription_deliveries', 'events', 'sync_cursors', 'sync_runs', 'plan_links', 'pulled_citizens'];

/** Every row of every table, to compare before and after a request that must store nothing. */
export async function snapshot(database: Database): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const table of TABLES) tables[table] = await database.db.all(sql.raw(`SELECT * FROM ${table} ORDER BY rowid`));
  return tables;
}
