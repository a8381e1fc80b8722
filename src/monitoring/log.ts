/**
 * Structured logging as JSON lines. Every line passes through the CPR redactor (S4) — callers
 * should never hand a CPR to the logger, and this catches the ones that slip through anyway.
 */
import { redactCpr } from '../security/redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (line: string) => void;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const maskStrings = (_key: string, value: unknown) => (typeof value === 'string' ? redactCpr(value) : value);

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { level?: LogLevel; sink?: LogSink; base?: Record<string, unknown> } = {}): Logger {
  const min = order[options.level ?? 'info'];
  const sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  const base = options.base ?? {};
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (order[level] < min) return;
    // Each value is masked before JSON escapes it: a tab or newline inside a number becomes `\t` or `\n`
    // in the line, which the line's own pass would no longer read as a separator.
    sink(redactCpr(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }, maskStrings)));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ level: options.level, sink, base: { ...base, ...fields } }),
  };
}

/** A logger that keeps lines in memory: for tests that check what would have been written. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level, sink: (l) => lines.push(l) }), { lines });
}
