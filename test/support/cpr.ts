/** Fictitious CPR numbers for tests (real dates, serials that fail modulus 11). Never print them. */
import { fictitiousCpr } from '../../adapters/shared/population';

let counter = 0;
/** A fresh fictitious CPR; the birth year decides the age where a test needs one. */
export function testCpr(birthDate = '1985-06-15'): string {
  counter += 7;
  return fictitiousCpr(new Date(`${birthDate}T00:00:00Z`), (counter * 37) % 1000);
}
