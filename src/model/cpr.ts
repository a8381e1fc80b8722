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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const TEN_DIGITS = /^\d{10}$/;
const digit = (text: string, at: number) => text.charCodeAt(at) - 48;

/**
 * Whether the date part of a normalised 10-digit CPR is a real date. Plain arithmetic on the
 * Gregorian calendar (the one `Date` uses), so checking a number allocates nothing; it agrees with
 * a `Date.UTC` round trip for every year `centuryYear` yields (1858–2057).
 */
export function hasRealCprDate(cpr: string): boolean {
  if (!TEN_DIGITS.test(cpr)) return false;
  const day = digit(cpr, 0) * 10 + digit(cpr, 1);
  const month = digit(cpr, 2) * 10 + digit(cpr, 3);
  const year = centuryYear(digit(cpr, 4) * 10 + digit(cpr, 5), digit(cpr, 6));
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/** Birth date (YYYY-MM-DD) of a normalised 10-digit CPR, or null when the date part is impossible. */
export function birthDateFromCpr(cpr: string): string | null {
  if (!hasRealCprDate(cpr)) return null;
  return `${centuryYear(digit(cpr, 4) * 10 + digit(cpr, 5), digit(cpr, 6))}-${cpr.slice(2, 4)}-${cpr.slice(0, 2)}`;
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
  .refine(hasRealCprDate, 'the date part of the CPR number is not a real date');

/** Age in whole years on a given date (YYYY-MM-DD). */
export function ageOn(birthDate: string, onDate: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = onDate.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}
