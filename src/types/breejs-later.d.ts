/** The part of @breejs/later (bree's cron reader, no types of its own) the monitoring uses. */
declare module '@breejs/later' {
  interface CronSchedule {
    schedules: Record<string, number[]>[];
    exceptions: Record<string, number[]>[];
  }
  interface Later {
    date: { localTime(): void; UTC(): void };
    parse: { cron(expression: string, hasSeconds?: boolean): CronSchedule };
    /** `next(n, start)`: the next n starts from `start` (inclusive, to the second); 0 when there are none. */
    schedule(schedule: CronSchedule): { next(count: number, start?: Date): Date | Date[] | 0 };
  }
  const later: Later;
  export default later;
}
