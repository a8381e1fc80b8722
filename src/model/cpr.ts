/**
 * CPR numbers (Danish personal identification numbers).
 *
 * We validate the date part only. Modulus 11 is not checked: the CPR office stopped
 * guaranteeing it in 2007, so real numbers fail it.
 */
import { z } from 'zod';

/** Birth year from the two-digit year and the 7th digit, per the CPR office's century table. */
export function centuryYear(twoDigitYear: number, seventhDigit: number): number {
  if (seventhDigit <= 3) return 1900 + twoDigitYear;
  if (seventhDigit === 4 || seventhDigit === 9) return (twoDigitYear <= 36 ? 2000 : 1900) + twoDigitYear;
  return (twoDigitYear <= 57 ? 2000 : 1800) + twoDigitYear;
}

/** Birth date (YYYY-MM-DD) of a normalised 10-digit CPR, or null when the date part is impossible. */
export function birthDateFromCpr(cpr: string): string | null {
  if (!/^\d{10}$/.test(cpr)) return null;
  const day = Number(cpr.slice(0, 2));
  const month = Number(cpr.slice(2, 4));
  const year = centuryYear(Number(cpr.slice(4, 6)), Number(cpr.slice(6, 7)));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date.toISOString().slice(0, 10);
}

export function normaliseCpr(input: string): string {
  return input.replace(/[-\s]/g, '');
}

export function isValidCpr(input: string): boolean {
  return birthDateFromCpr(normaliseCpr(input)) !== null;
}

/** Accepts `DDMMYYSSSS` or `DDMMYY-SSSS`; yields the 10-digit form. */
export const Cpr = z
  .string()
  .trim()
  .regex(/^\d{6}-?\d{4}$/, 'a CPR number has 10 digits (DDMMYY-SSSS)')
  .transform(normaliseCpr)
  .refine((cpr) => birthDateFromCpr(cpr) !== null, 'the date part of the CPR number is not a real date');

/** Age in whole years on a given date (YYYY-MM-DD). */
export function ageOn(birthDate: string, onDate: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = onDate.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}
