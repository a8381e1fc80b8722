/**
 * Who runs a sync run, recorded with it, so that a run whose process died — which never finishes
 * itself — can be told from one under way and ended as "interrupted" (decision 0020, "Later
 * (2026-11-24)"). On Node: `node:<host>:<pid>:<process instance>:<thread id>`. The instance tells
 * this start of a pid from an earlier one (a container's service is pid 1 on every start); the
 * service's threads (bree's jobs, the on-demand sync thread) read it from the environment they
 * inherit. On Workers nothing can be asked about another invocation: `workers`, and the engine ends
 * such runs once older than an invocation may last.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import type { AppDeps } from '../api/context';
import { redactCpr } from '../security/redact';

const INSTANCE_VARIABLE = 'ENPLAN_PROCESS_INSTANCE';

/** This process's instance: made by the first caller (the main thread, before any job thread starts). */
function processInstance(): string {
  return (process.env[INSTANCE_VARIABLE] ??= randomUUID());
}

/** For a thread started with an environment of its own (not this process's): its runs name this process. */
export const processInstanceEnv = () => ({ [INSTANCE_VARIABLE]: processInstance() });

/** The owner a thread of this process (by its id; this thread's by default) records with its runs. */
export function nodeRunOwner(ofThread: number = threadId): string {
  return `node:${hostname()}:${process.pid}:${processInstance()}:${ofThread}`;
}

/** Whether a process with this pid lives on this host (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether no live process owns runs of this owner: a Node process of this host whose pid is gone,
 * or is this process's under an earlier instance; or none at all (runs started before owners were
 * recorded, by a release that has since stopped). Another host's runs, and Workers', are not ours to judge.
 */
export function ownerIsGone(owner: string | null): boolean {
  if (owner === null) return true;
  const [runtime, host, pid, instance] = owner.split(':');
  if (runtime !== 'node' || host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  if (Number(pid) === process.pid) return instance !== processInstance();
  return !alive(Number(pid));
}

/**
 * At Node start (the service's main thread, before it runs anything): ends as interrupted every run
 * of this database still "running" whose process is gone. Not in `openNodeDeps`: each job thread
 * opens its own, and would end the runs of the service's other threads under way.
 */
export async function interruptRunsOfEndedProcesses(deps: Pick<AppDeps, 'store' | 'clock' | 'logger'>): Promise<number> {
  const gone = (await deps.store.sync.runningOwners()).filter(ownerIsGone);
  if (gone.length === 0) return 0;
  const at = deps.clock.now().toISOString();
  const ended = await deps.store.sync.interruptRunsOf(
    gone,
    at,
    `interrupted: the process running it ended before the run did (a crash, a restart or a stop), so it recorded no outcome; found at the service's start at ${at}. What it merged stays merged; the next run goes on from there.`,
  );
  if (ended > 0) deps.logger.warn('sync runs left running by an ended process were marked interrupted', { runs: ended });
  return ended;
}

/**
 * From a worker thread's exit handler in the service (the on-demand sync thread, bree's jobs): ends
 * as interrupted the runs that thread left "running" — it ended before they did (an error, its heap
 * limit, terminated), while the process lives on, so neither it nor the next start would end them.
 * Thread ids are never reused within a process, so only that thread's runs match. `how`: its error or exit code.
 */
export async function interruptRunsOfThread(deps: Pick<AppDeps, 'store' | 'clock' | 'logger'>, thread: number, how: string): Promise<number> {
  const at = deps.clock.now().toISOString();
  // A thread's error may quote what it was reading: no CPR number is kept.
  const ended = await deps.store.sync.interruptRunsOf(
    [nodeRunOwner(thread)],
    at,
    redactCpr(`interrupted: the worker thread running it ended before the run did (${how}) at ${at}, while the service went on, so it recorded no outcome. What it merged stays merged; the next run goes on from there.`),
  );
  if (ended > 0) deps.logger.warn('sync runs of a worker thread that ended were marked interrupted', { runs: ended, thread, how: redactCpr(how) });
  return ended;
}
