/**
 * What the DFDG and Ungedatabasen mappings share: collecting the notes of one mapping run (codes it
 * did not know, source fields no rule reads), turning candidate fragments into checked `Fragment`s,
 * and reading our own element ids back for the push side.
 */
import type { z } from 'zod';
import { Fragment } from '../../src/model/fragment';
import type { MappingNotes, MappingResult } from '../../mappings/mapping';
import { describeIssues } from './records';
import { fieldPaths } from './xml';

/** The text shown for a code the code list does not hold (the code itself is kept). */
export const UNKNOWN_CODE_DISPLAY = 'ukendt kode';

export class MappingRun {
  readonly notes: MappingNotes = { unknownCodes: [], ignoredFields: [] };

  unknownCode(system: string, code: string): void {
    if (!this.notes.unknownCodes.some((c) => c.system === system && c.code === code)) this.notes.unknownCodes.push({ system, code });
  }

  /** Report every leaf of `record` whose path is not in `consumed`, e.g. `JobGoal[].OccupationCode`. */
  ignoreUnread(record: unknown, consumed: ReadonlySet<string>): void {
    for (const path of fieldPaths(record)) if (!consumed.has(path)) this.notes.ignoredFields.push(path);
    this.notes.ignoredFields.sort();
  }

  fail(ruleId: string, reason: string): MappingResult {
    return { ok: false, ruleId, reason, ...this.notes };
  }

  /** Check every candidate against the model; a candidate the model refuses fails the record. */
  finish(candidates: readonly unknown[]): MappingResult {
    const fragments: Fragment[] = [];
    for (const candidate of candidates) {
      const parsed = Fragment.safeParse(candidate);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const elementId = (candidate as { elementId?: unknown }).elementId;
        return this.fail('fragment', `${typeof elementId === 'string' ? elementId : 'fragment'}: ${issue?.path.join('.') || 'content'}: ${issue?.message ?? 'not a valid model fragment'}`);
      }
      fragments.push(parsed.data);
    }
    return { ok: true, fragments, ...this.notes };
  }
}

/** The source id inside one of our element ids, e.g. `dfdg:activity:<guid>` → `<guid>`. */
export function sourceIdOf(elementId: string | undefined, prefix: string): string | undefined {
  if (!elementId?.startsWith(prefix)) return undefined;
  const id = elementId.slice(prefix.length);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) ? id : undefined;
}

/** A reverse mapping's payload, checked against the target's push contract before it is queued. */
export function checkedPayload<T>(schema: z.ZodType, payload: T, serviceName: string): { ok: true; payload: T } | { ok: false; reason: string } {
  const parsed = schema.safeParse(payload);
  return parsed.success ? { ok: true, payload } : { ok: false, reason: `${serviceName} would refuse it: ${describeIssues(parsed.error)}` };
}
