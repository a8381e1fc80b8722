/**
 * The synthetic population all four simulators share, so one citizen has records in several
 * sector systems. Deterministic for a seed. The CPR numbers are fictitious: real dates, but serial
 * numbers chosen to fail the modulus-11 check, which the CPR office used for every number it
 * issued before 2007 (and these birth dates are all before 2007).
 */

/** mulberry32: a small, fast, seeded PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MOD11_WEIGHTS = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];

export function passesModulus11(cpr: string): boolean {
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += Number(cpr[i]) * MOD11_WEIGHTS[i]!;
  return sum % 11 === 0;
}

export interface SyntheticCitizen {
  index: number;
  cpr: string;
  givenName: string;
  familyName: string;
  birthDate: string;
  municipality: string;
  /** Which sector systems hold records for this citizen. */
  sectors: { employment: boolean; education: boolean; social: boolean; health: boolean };
  refugee: boolean;
}

const GIVEN = ['Anna', 'Jens', 'Fatima', 'Mads', 'Sofie', 'Ahmad', 'Ida', 'Lars', 'Mette', 'Omar', 'Freja', 'Karim', 'Emil', 'Nadia', 'Peter', 'Lærke'];
const FAMILY = ['Hansen', 'Jensen', 'Nielsen', 'Pedersen', 'Ali', 'Andersen', 'Christensen', 'Larsen', 'Sørensen', 'Rasmussen', 'Hussein', 'Madsen'];

/** A fictitious CPR for a birth date (1937–2006), stepping the serial until modulus 11 fails. */
export function fictitiousCpr(birthDate: Date, serialSeed: number): string {
  const dd = String(birthDate.getUTCDate()).padStart(2, '0');
  const mm = String(birthDate.getUTCMonth() + 1).padStart(2, '0');
  const year = birthDate.getUTCFullYear();
  const yy = String(year % 100).padStart(2, '0');
  // 7th digit: 0–3 covers 1900–1999; 4 covers 2000–2036.
  const centuryDigit = year >= 2000 ? 4 : serialSeed % 4;
  for (let step = 0; step < 1000; step++) {
    const rest = String((serialSeed + step) % 1000).padStart(3, '0');
    const cpr = `${dd}${mm}${yy}${centuryDigit}${rest}`;
    if (!passesModulus11(cpr)) return cpr;
  }
  throw new Error('no fictitious serial found');
}

export function generatePopulation(size: number, seed = 2026, municipality = '101'): SyntheticCitizen[] {
  const random = seededRandom(seed);
  const citizens: SyntheticCitizen[] = [];
  const used = new Set<string>();
  for (let index = 0; index < size; index++) {
    const start = Date.UTC(1960, 0, 1);
    const end = Date.UTC(2006, 11, 31);
    const birth = new Date(start + Math.floor(random() * ((end - start) / 86_400_000)) * 86_400_000);
    let cpr = fictitiousCpr(birth, Math.floor(random() * 1000));
    while (used.has(cpr)) cpr = fictitiousCpr(birth, Math.floor(random() * 1000));
    used.add(cpr);
    const age = 2026 - birth.getUTCFullYear();
    citizens.push({
      index,
      cpr,
      givenName: GIVEN[Math.floor(random() * GIVEN.length)]!,
      familyName: FAMILY[Math.floor(random() * FAMILY.length)]!,
      birthDate: birth.toISOString().slice(0, 10),
      municipality,
      sectors: {
        employment: age >= 18 ? random() < 0.9 : random() < 0.2,
        education: age < 25 ? random() < 0.85 : random() < 0.1,
        social: random() < 0.7,
        health: random() < 0.5,
      },
      refugee: random() < 0.08,
    });
  }
  return citizens;
}
