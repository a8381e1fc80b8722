/** Fictitious CPR numbers for tests (real dates, serials that fail modulus 11). Never print them. */
import { fictitiousCpr } from '../../adapters/shared/population';

let counter = 0;
/** A fresh fictitious CPR; the birth year decides the age where a test needs one. */
export function testCpr(birthDate = '1985-06-15'): string {
  counter += 7;
  return fictitiousCpr(new Date(`${birthDate}T00:00:00Z`), (counter * 37) % 1000);
}

/**
 * The number in any form text could repeat it in: its digits in order, written apart or not, with
 * %-encoded separators too. Not its last four digits alone: a random id or hash may hold those.
 */
export function cprPattern(cpr: string): RegExp {
  const gap = '(?:\\D|%[0-9A-Fa-f]{2}){0,3}';
  return new RegExp([cpr.slice(0, 2), cpr.slice(2, 4), cpr.slice(4, 6), cpr.slice(6)].join(gap));
}
