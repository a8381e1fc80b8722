/**
 * Half-year reporting periods (R22): `2026-H1` is 1 January – 30 June 2026, `2026-H2` 1 July –
 * 31 December, in Danish time (Europe/Copenhagen): the municipality's half-year, so a decline
 * recorded at 00:30 on 1 July Danish time (22:30 UTC on 30 June) belongs to the second half.
 */
import { z } from 'zod';

export const HalfYearId = z
  .string()
  .regex(/^2\d{3}-H[12]$/, 'a half-year such as "2026-H1" (January–June) or "2026-H2" (July–December)');
export type HalfYearId = z.infer<typeof HalfYearId>;

export interface HalfYear {
  id: string;
  /** First and last calendar day (inclusive), as ISO dates: what dated elements (intervention periods) are compared with. */
  firstDay: string;
  lastDay: string;
  /** The period as instants, [start, end): what timestamps (status changes) are compared with. */
  start: number;
  end: number;
}

export const REPORTING_TIME_ZONE = 'Europe/Copenhagen';

const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: REPORTING_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The wall-clock time in Denmark at `instant`, read as if it were UTC (so the difference is the offset). */
function danishWallClock(instant: number): number {
  const p = Object.fromEntries(parts.formatToParts(new Date(instant)).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

/** The instant of midnight starting this calendar day in Denmark (the offset comes from the time zone data, not a constant). */
function danishMidnight(year: number, monthIndex: number, day: number): number {
  const wall = Date.UTC(year, monthIndex, day);
  let instant = wall;
  // Two rounds settle it: the offset at the guess, then at the corrected instant.
  for (let i = 0; i < 2; i++) instant = wall - (danishWallClock(instant) - instant);
  return instant;
}

export function halfYear(id: HalfYearId): HalfYear {
  const year = Number(id.slice(0, 4));
  const second = id.endsWith('H2');
  return {
    id,
    firstDay: `${year}-${second ? '07-01' : '01-01'}`,
    lastDay: `${year}-${second ? '12-31' : '06-30'}`,
    start: danishMidnight(year, second ? 6 : 0, 1),
    end: second ? danishMidnight(year + 1, 0, 1) : danishMidnight(year, 6, 1),
  };
}

/** The last half-year that had ended (in Danish time) at `now`. */
export function lastCompleteHalfYear(now: Date): HalfYear {
  const wall = new Date(danishWallClock(now.getTime()));
  const year = wall.getUTCFullYear();
  return halfYear(wall.getUTCMonth() < 6 ? `${year - 1}-H2` : `${year}-H1`);
}

/** The half-year `now` falls in (in Danish time). */
export function currentHalfYear(now: Date): HalfYear {
  const wall = new Date(danishWallClock(now.getTime()));
  return halfYear(`${wall.getUTCFullYear()}-${wall.getUTCMonth() < 6 ? 'H1' : 'H2'}`);
}
