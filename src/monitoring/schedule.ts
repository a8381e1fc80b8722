/**
 * When a scheduled job is overdue, read from its own cron. The starts are counted with the cron
 * reader bree runs the jobs with (@breejs/later, in the process's local time as bree sets it), so a
 * business-hours sync is not overdue over a weekend and a monthly retention not after two days.
 * Cron Triggers on Workers run in UTC, which is Workers' local time.
 */
import later from '@breejs/later';
import { cronFields } from '../config';

// bree's job builder sets the same on import; set here too, so the figures do not hang on import order.
later.date.localTime();

/**
 * Room after a missed start for a run that began late or is still going to end: without it a
 * sync that starts on time but takes a minute would be overdue for that minute.
 */
export const OVERDUE_GRACE_MS = 10 * 60_000;

const parsed = new Map<string, ReturnType<typeof later.parse.cron>>();

/** The next `count` starts of `cron` strictly after `after` (fewer if it stops firing). */
export function scheduledStartsAfter(cron: string, after: Date, count: number): Date[] {
  let schedule = parsed.get(cron);
  if (!schedule) {
    schedule = later.parse.cron(cron, cronFields(cron) === 6);
    parsed.set(cron, schedule);
  }
  // later counts a start in the very second it is given (milliseconds ignored): begin at the next whole second.
  const from = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const next = later.schedule(schedule).next(count, from);
  return next === 0 ? [] : Array.isArray(next) ? next : [next];
}

/**
 * From when a job on `cron` whose last success was at `lastSuccess` is overdue: two of its scheduled
 * starts have passed since, plus the grace. One missed start is a run that failed once (a sector
 * system down for a moment); two in a row is a job that has stopped. Null for a cron that does not
 * fire twice more (it can never be late).
 */
export function overdueFrom(cron: string, lastSuccess: Date): Date | null {
  const [, second] = scheduledStartsAfter(cron, lastSuccess, 2);
  if (!second) return null;
  return new Date(second.getTime() + OVERDUE_GRACE_MS);
}
