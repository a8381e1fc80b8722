/**
 * Code lists as data: a JSON file with an id, the code system URI, where the list came from
 * (`origin`, e.g. "MODELLED" where the real list is not public) and its codes. Loaded once through
 * zod, so a broken file fails at start-up, not in the middle of a sync. Shared by the SOAP
 * simulators (which emit and validate codes) and the mappings (which translate them).
 */
import { z } from 'zod';
import type { CodeListRef } from '../../mappings/mapping';

const CodeListFile = z.object({
  id: z.string().min(1),
  system: z.string().min(1),
  origin: z.string().min(1),
  verification: z.enum(['verified', 'partly-verified', 'unverified']),
  codes: z.array(z.looseObject({ code: z.string().min(1), display: z.string().min(1) })).min(1),
});

export interface CodeList<Entry extends { code: string; display: string }> {
  id: string;
  system: string;
  origin: string;
  verification: 'verified' | 'partly-verified' | 'unverified';
  codes: readonly Entry[];
  lookup(code: string): Entry | undefined;
  has(code: string): boolean;
  /** The reference a mapping lists in `codeLists`. */
  ref: CodeListRef;
}

export function defineCodeList<Entry extends { code: string; display: string }>(file: unknown, entry: z.ZodType<Entry>): CodeList<Entry> {
  const parsed = CodeListFile.parse(file);
  const codes = parsed.codes.map((c) => entry.parse(c));
  const byCode = new Map(codes.map((c) => [c.code, c]));
  if (byCode.size !== codes.length) throw new Error(`code list ${parsed.id} has a code twice`);
  return {
    id: parsed.id,
    system: parsed.system,
    origin: parsed.origin,
    verification: parsed.verification,
    codes,
    lookup: (code) => byCode.get(code),
    has: (code) => byCode.has(code),
    ref: { id: parsed.id, system: parsed.system, origin: parsed.origin, size: codes.length },
  };
}
