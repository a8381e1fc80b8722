/**
 * The audit log refuses UPDATE and DELETE (migration 0019). A test of what verify detects plays
 * someone who holds the database file and drops those triggers first, as such a person could.
 */
import { sql } from 'drizzle-orm';

export const AUDIT_GUARD_TRIGGERS = ['audit_log_no_update', 'audit_log_no_delete', 'audit_heads_no_delete', 'audit_heads_forward_only', 'audit_bases_no_delete', 'audit_bases_forward_only'];

export async function dropAuditGuards(db: { run(query: ReturnType<typeof sql.raw>): Promise<unknown> }): Promise<void> {
  // `if exists`: so the same test also runs against a database from before the guards.
  for (const trigger of AUDIT_GUARD_TRIGGERS) await db.run(sql.raw(`drop trigger if exists ${trigger}`));
}
