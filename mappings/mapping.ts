/**
 * The mapping contract. A mapping is data-shaped code IT staff can see: an id, a semantic version,
 * the source schema, field rules, code lists (JSON files beside it) and golden fixtures. Running
 * one reports records in/out, failures per rule, codes it did not know and source fields it ignored.
 */
import type { z } from 'zod';
import type { Fragment, SourceSystem } from '../src/model';
import { redactCpr } from '../src/security/redact';

export interface FieldRule {
  /** Stable id used in failure counts, e.g. "activity.period". */
  id: string;
  source: string;
  target: string;
  description: string;
}

export interface CodeListRef {
  id: string;
  system: string;
  /** Where the list came from (public source, or "modelled" where the real list is not public). */
  origin: string;
  size: number;
}

export interface MappingContext {
  /** When the mapping runs; used for nothing that changes the output of a golden fixture. */
  now: string;
  ruleVersion: string;
}

/** What a mapping noticed about one record besides its output. */
export interface MappingNotes {
  unknownCodes: { system: string; code: string }[];
  ignoredFields: string[];
}

export type MappingResult =
  | ({ ok: true; fragments: Fragment[] } & MappingNotes)
  | ({ ok: false; ruleId: string; reason: string } & MappingNotes);

export interface Mapping<Input = unknown> {
  id: string;
  version: string;
  adapter: SourceSystem;
  recordType: string;
  description: string;
  sourceSchema: z.ZodType<Input>;
  rules: readonly FieldRule[];
  codeLists: readonly CodeListRef[];
  map(input: Input, context: MappingContext): MappingResult;
}

/** Model → source: what the push side sends for a registration. */
export interface ReverseMapping<ModelInput = unknown, Native = unknown> {
  id: string;
  version: string;
  adapter: SourceSystem;
  /** The adapter push operation it produces, e.g. "activity.upsert". */
  operation: string;
  map(input: ModelInput): { ok: true; payload: Native } | { ok: false; reason: string };
}

/** Per-run statistics of one mapping, kept by `runMapping` and shown to IT staff. */
export interface MappingStats {
  mappingId: string;
  mappingVersion: string;
  recordsIn: number;
  recordsOut: number;
  fragmentsOut: number;
  failuresByRule: Record<string, number>;
  unknownCodes: Record<string, number>;
  ignoredFields: Record<string, number>;
}

export function emptyStats(mapping: Pick<Mapping, 'id' | 'version'>): MappingStats {
  return { mappingId: mapping.id, mappingVersion: mapping.version, recordsIn: 0, recordsOut: 0, fragmentsOut: 0, failuresByRule: {}, unknownCodes: {}, ignoredFields: {} };
}

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** A failure runMapping makes itself; its reason may quote the input (a path, a thrown message), so CPR-shaped text is masked. */
const failure = (ruleId: string, reason: string): MappingResult => ({ ok: false, ruleId, reason: redactCpr(reason), unknownCodes: [], ignoredFields: [] });

/** A stack overflow: what a schema or a mapping recursing into a record nested thousands deep throws. */
const isStackOverflow = (error: unknown) => error instanceof RangeError && /call stack/i.test(error.message);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Validate against the source schema, then map. Never throws, whatever the input — not even for a
 * record nested so deep that checking it overflows the stack: a failure comes back as
 * `{ ok: false }` with the rule and a readable reason, for the caller to quarantine.
 *
 * `checkedByAdapter`: the record comes from an adapter's pull, which has already checked it
 * against the same contract (or a stricter one), so checking again would only cost time.
 */
export function runMapping<Input>(
  mapping: Mapping<Input>,
  input: unknown,
  context: MappingContext,
  stats?: MappingStats,
  options?: { checkedByAdapter?: boolean },
): MappingResult {
  const result = mapRecord(mapping, input, context, options);
  if (stats) countMapping(stats, result);
  return result;
}

/** `runMapping` without the statistics: a pure function of the record (the pull worker runs it off the main thread). */
export function mapRecord<Input>(mapping: Mapping<Input>, input: unknown, context: MappingContext, options?: { checkedByAdapter?: boolean }): MappingResult {
  let result: MappingResult | undefined;
  let data = input as Input;
  if (!options?.checkedByAdapter) {
    try {
      const parsed = mapping.sourceSchema.safeParse(input);
      if (parsed.success) data = parsed.data;
      else {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? issue.path.join('.') : 'record';
        result = failure('contract', `${where}: ${issue?.message ?? 'does not match the source contract'}`);
      }
    } catch (error) {
      // safeParse reports bad input as issues; what it throws is a schema recursing past the stack.
      result = failure('contract', isStackOverflow(error) ? 'record: nests too deeply to be checked against the source contract' : `record: could not be checked against the source contract (${messageOf(error)})`);
    }
  }
  if (!result) {
    try {
      result = mapping.map(data, context);
    } catch (error) {
      result = failure('mapping', isStackOverflow(error) ? 'the record nests too deeply to be mapped' : messageOf(error));
    }
  }
  return result;
}

/** Adds one record's outcome to its mapping's per-run statistics. */
export function countMapping(stats: MappingStats, result: MappingResult): void {
  stats.recordsIn++;
  if (result.ok) {
    stats.recordsOut++;
    stats.fragmentsOut += result.fragments.length;
  } else bump(stats.failuresByRule, result.ruleId);
  for (const c of result.unknownCodes) bump(stats.unknownCodes, `${c.system}|${c.code}`);
  for (const f of result.ignoredFields) bump(stats.ignoredFields, f);
}
