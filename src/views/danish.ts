/**
 * Plain Danish for the citizen (R13, R15): dates in Danish time, and the names of systems,
 * parties and data categories as a citizen would say them. Pure; no Intl time-zone data needed,
 * so it reads the same on Node and Workers.
 */
import type { DataCategory } from '../model';

const MONTHS = ['januar', 'februar', 'marts', 'april', 'maj', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'december'];

/** The last Sunday of a month (UTC date number). */
function lastSunday(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return last.getUTCDate() - last.getUTCDay();
}

/**
 * Danish local time: CET (UTC+1), and CEST (UTC+2) from 01:00 UTC on the last Sunday of March to
 * 01:00 UTC on the last Sunday of October (the EU rule).
 */
export function copenhagenTime(at: Date): Date {
  const year = at.getUTCFullYear();
  const summerStart = Date.UTC(year, 2, lastSunday(year, 2), 1);
  const summerEnd = Date.UTC(year, 9, lastSunday(year, 9), 1);
  const offsetHours = at.getTime() >= summerStart && at.getTime() < summerEnd ? 2 : 1;
  return new Date(at.getTime() + offsetHours * 3_600_000);
}

/** Today's date (YYYY-MM-DD) in Denmark: what "due today" and "overdue" mean to the people using the plans. */
export function danishToday(now: Date): string {
  return copenhagenTime(now).toISOString().slice(0, 10);
}

/** "23. november 2026" for an ISO date or date-time (date-times in Danish time). */
export function danishDate(value: string): string {
  const local = value.length === 10 ? new Date(`${value}T00:00:00Z`) : copenhagenTime(new Date(value));
  return `${local.getUTCDate()}. ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()}`;
}

/** "10.04": the time of day in Danish time. */
export function danishClock(value: string): string {
  const local = copenhagenTime(new Date(value));
  return `${String(local.getUTCHours()).padStart(2, '0')}.${String(local.getUTCMinutes()).padStart(2, '0')}`;
}

/** "23. november 2026 kl. 10.04" in Danish time. */
export function danishDateTime(value: string): string {
  return `${danishDate(value)} kl. ${danishClock(value)}`;
}

/** "a", "a og b", "a, b og c". */
export function danishList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} og ${items.at(-1)}`;
}

const categoryNames: Record<DataCategory, string> = {
  'plan-core': 'planens grundoplysninger',
  goals: 'mål',
  interventions: 'indsatser',
  employment: 'beskæftigelse',
  education: 'uddannelse',
  social: 'sociale forhold',
  health: 'helbred',
  family: 'familieforhold',
};

export function categoriesInDanish(categories: readonly string[]): string {
  return danishList(categories.map((c) => categoryNames[c as DataCategory] ?? c));
}

/** Sector systems (sources and delivery targets). */
const systemNames: Record<string, string> = {
  dfdg: 'Jobcentret (DFDG)',
  education: 'Ungedatabasen (uddannelse)',
  social: 'socialforvaltningens fagsystem',
  health: 'regionens sundhedssystem',
  enplan: 'din Én plan',
};

const partyNames: Record<string, string> = {
  enplan: 'din Én plan',
  employment: 'Jobcentret',
  education: 'uddannelsesvejledningen',
  social: 'socialforvaltningen',
  children: 'børne- og familieafdelingen',
  health: 'sundhedsområdet',
  integration: 'integrationsafdelingen',
};

const municipalityNames: Record<string, string> = {
  '101': 'Københavns Kommune',
  '147': 'Frederiksberg Kommune',
  '461': 'Odense Kommune',
  '751': 'Aarhus Kommune',
  '851': 'Aalborg Kommune',
};

export function municipalityName(code: string): string {
  return municipalityNames[code] ?? `kommune ${code}`;
}

export function systemName(system: string): string {
  return systemNames[system] ?? system;
}

export function partyName(recipient: string): string {
  if (recipient.startsWith('provider:')) return `leverandøren ${recipient.slice('provider:'.length)}`;
  if (recipient.startsWith('municipality:')) return municipalityName(recipient.slice('municipality:'.length));
  return partyNames[recipient] ?? recipient;
}

/** The sentence's first letter in upper case. */
export const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * A refusal reason of the consent policy, said plainly. Rows logged before each reason had a row of
 * its own hold a citizen's reasons joined with "; ": each is said, once.
 */
export function refusalInDanish(reason: string): string {
  if (!/^the region/i.test(reason) && reason.includes('; ')) return [...new Set(reason.split('; ').map(oneRefusalInDanish))].join(', og ');
  return oneRefusalInDanish(reason);
}

function oneRefusalInDanish(reason: string): string {
  // The region's own consent to share (src/consent/regional.ts), before the phrases of ours.
  if (/^the region records that the citizen withdrew/i.test(reason)) return 'du har trukket dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, tilbage';
  if (/^the region records that the citizen refused/i.test(reason)) return 'du har sagt nej til, at regionen deler dine helbredsoplysninger med kommunen';
  if (/^the region's consents on sharing health data concern recipients other/i.test(reason)) return 'dine samtykker hos regionen til deling af helbredsoplysninger gælder andre modtagere end kommunen';
  // Before "ended on": the quarantine's own reason follows this one and could end in anything.
  if (/^the region's consent to share health data with the municipality could not be read/i.test(reason)) return 'regionens oplysning om dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, ikke kunne læses';
  const ended = /^the region's consent to share .* ended on (\d{4}-\d{2}-\d{2})$/i.exec(reason);
  if (ended) return `dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, udløb (det gjaldt til og med ${danishDate(ended[1]!)})`;
  if (/^the region's consent to share/i.test(reason)) return 'dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, endnu ikke gælder';
  if (/revoked/i.test(reason)) return 'du har trukket dit samtykke tilbage';
  if (/explicit consent/i.test(reason)) return 'helbredsoplysninger kræver dit udtrykkelige samtykke';
  if (/also needed from/i.test(reason)) return 'der mangler samtykke fra både dig og forældremyndighedsindehaveren';
  if (/not valid at this time/i.test(reason)) return 'samtykket ikke gjaldt på det tidspunkt';
  if (/no consent covers/i.test(reason)) return 'der ikke er givet samtykke til det';
  return 'der ikke var grundlag for det';
}
