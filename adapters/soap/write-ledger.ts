/**
 * The simulators' memory of writes: which transaction ids they have applied (so a replay answers
 * the stored receipt instead of writing again), and how many effects each target record has had
 * (so tests and benchmarks can assert exactly-once in effect).
 */
import { SimulatedFault } from './simulator-kit';

export interface WriteLogEntry {
  transactionId: string;
  operation: string;
  targetId: string;
  /** True when nothing changed: a replayed transaction, or content equal to what was held. */
  duplicate: boolean;
}

export interface WriteReceipt {
  targetId: string;
  version: number;
  duplicate: boolean;
}

interface Transaction {
  digest: string;
  operation: string;
  targetId: string;
  version: number;
}

const WRITE_LOG_SIZE = 10_000;

export class WriteLedger {
  private readonly transactions = new Map<string, Transaction>();
  private readonly effects = new Map<string, number>();
  private readonly log: WriteLogEntry[] = [];

  /**
   * The stored receipt when `transactionId` was applied before; a transaction id reused with
   * other content is refused (fault 1040), as an idempotency store must.
   */
  replay(transactionId: string, digest: string): WriteReceipt | undefined {
    const seen = this.transactions.get(transactionId);
    if (!seen) return undefined;
    if (seen.digest !== digest) throw new SimulatedFault('1040', 'the transaction id was used before with other content');
    this.append({ transactionId, operation: seen.operation, targetId: seen.targetId, duplicate: true });
    return { targetId: seen.targetId, version: seen.version, duplicate: true };
  }

  /** Remember an applied transaction; `changed` says whether it had an effect on the target. */
  applied(transactionId: string, digest: string, operation: string, targetId: string, version: number, changed: boolean): WriteReceipt {
    this.transactions.set(transactionId, { digest, operation, targetId, version });
    if (changed) this.effects.set(targetId, (this.effects.get(targetId) ?? 0) + 1);
    this.append({ transactionId, operation, targetId, duplicate: !changed });
    return { targetId, version, duplicate: !changed };
  }

  effectCounts(): Record<string, number> {
    return Object.fromEntries(this.effects);
  }

  writeLog(): WriteLogEntry[] {
    return this.log.map((entry) => ({ ...entry }));
  }

  private append(entry: WriteLogEntry): void {
    this.log.push(entry);
    if (this.log.length > WRITE_LOG_SIZE) this.log.splice(0, this.log.length - WRITE_LOG_SIZE);
  }
}
