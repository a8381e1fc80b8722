/**
 * zod building blocks for contracts of XML records. Parsed XML gives strings (an empty element
 * is ""), objects and arrays; these schemas turn that text into typed values and are idempotent —
 * parsing their own output again succeeds — because a record checked by the adapter is checked
 * once more by `runMapping`.
 */
import { z } from 'zod';
import { Cpr } from '../../src/model/cpr';

const blankToUndefined = (value: unknown) => (value === '' || value === null ? undefined : value);

/** Required text: trimmed by the reader already, must not be empty. */
export const xmlText = (max = 500) => z.string().min(1, 'must not be empty').max(max);

export const xmlOptionalText = (max = 500) => z.preprocess(blankToUndefined, z.string().max(max).optional());

export const xmlDate = z.iso.date();
export const xmlOptionalDate = z.preprocess(blankToUndefined, z.iso.date().optional());
export const xmlDateTime = z.iso.datetime({ offset: true });
export const xmlOptionalDateTime = z.preprocess(blankToUndefined, z.iso.datetime({ offset: true }).optional());

const NUMBER_TEXT = /^[+-]?\d+(\.\d+)?$/;
const toNumber = (value: unknown) => (typeof value === 'string' && NUMBER_TEXT.test(value) ? Number(value) : value);

/** A decimal number written as text ("37" or "37.5"); numbers pass through. */
export const xmlDecimal = (min: number, max: number) => z.preprocess(toNumber, z.number().min(min).max(max));
export const xmlOptionalDecimal = (min: number, max: number) => z.preprocess((v) => toNumber(blankToUndefined(v)), z.number().min(min).max(max).optional());
export const xmlPositiveInteger = z.preprocess(toNumber, z.number().int().positive().max(Number.MAX_SAFE_INTEGER));

/** xs:boolean: "true", "false", "1", "0". */
export const xmlBoolean = z.preprocess((value) => {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
}, z.boolean());
export const xmlOptionalBoolean = z.preprocess((value) => {
  const v = blankToUndefined(value);
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return v;
}, z.boolean().optional());

/** A GUID in its canonical lowercase form. */
export const xmlGuid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID')
  .transform((guid) => guid.toLowerCase());

/** A code from a code list: short, no whitespace inside. */
export const xmlCode = z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be a code (letters, digits, . _ -)');

export const xmlCpr = Cpr;

/** A kommunekode (three digits). */
export const xmlMunicipalityCode = z.string().regex(/^\d{3}$/, 'must be a three-digit municipality code');

/** A repeating element: absent or empty → [], a single object → [object]. */
export const xmlList = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value]), z.array(item));

/**
 * A record contract, compiled: the adapter checks every record it reads against it and a mapping
 * run without the adapter checks it again, so it is the hottest schema of a sync. `z.compile`
 * (zod ≥ 4.5) generates a flat parser for the same schema — same output, and any record the
 * generated code rejects goes through zod's ordinary parser, so the issues (and the quarantine
 * reasons built from them) are the same too. Where code generation is not allowed (no
 * `new Function`, e.g. Workers) it returns the schema unchanged. Compile the finished record
 * schema: a schema derived from a compiled one (`.extend`, `.refine`) is not compiled.
 */
export const xmlRecord = <T extends z.ZodType>(schema: T): T => z.compile(schema);

/** An element with children; an empty element arrives as "" and is read as an empty object. */
export const xmlElement = <T extends z.ZodType>(shape: T) => z.preprocess((value) => (value === '' ? {} : value), shape);
