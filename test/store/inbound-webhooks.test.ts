/**
 * The inbound notice store: notices that arrive together are committed together (one INSERT), and
 * each caller still learns what became of its own — stored, or a duplicate of an earlier one (also
 * within the same group). If the commit fails, every caller of the group hears it: none is told
 * "stored" for a notice that is not. Waiting notices are found through the waiting index.
 */
import type { createClient } from '@libsql/client';
import { afterEach, describe, expect, it } from 'vitest';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { inboundWebhookRepository, type NewInboundWebhook } from '../../src/store/inbound-webhooks';
import type { Database } from '../../src/store';

const notice = (webhookId: string, extra: Partial<NewInboundWebhook> = {}): NewInboundWebhook => ({ source: 'dfdg', webhookId, tenant: '101', eventType: 'records.changed', body: '{}', receivedAt: '2026-11-23T10:00:00.000Z', ...extra });
let database: Database | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

describe('inbound notice store', () => {
  it('commits a burst as one group, and tells each caller about its own notice', async () => {
    database = await openLibsqlDatabase(':memory:');
    const repository = inboundWebhookRepository(database);
    let statements = 0;
    const client = (database.db as unknown as { $client: { execute: (...args: unknown[]) => unknown } }).$client;
    const execute = client.execute.bind(client);
    client.execute = (...args: unknown[]) => {
      statements++;
      return execute(...args);
    };
    const ids = ['a', 'b', 'a', 'c', 'b', 'd'];
    const outcomes = await Promise.all(ids.map((id) => repository.receive(notice(id))));
    expect(outcomes).toEqual(['stored', 'stored', 'duplicate', 'stored', 'duplicate', 'stored']);
    expect(statements).toBe(1);
    // The same id from another source is another notice; an id seen before is a duplicate.
    expect(await Promise.all([repository.receive(notice('a', { source: 'social' })), repository.receive(notice('a'))])).toEqual(['stored', 'duplicate']);
    expect((await repository.list('101', 50)).map((r) => `${r.source}:${r.webhookId}:${r.status}:${r.attempts}`).sort()).toEqual(['dfdg:a:pending:0', 'dfdg:b:pending:0', 'dfdg:c:pending:0', 'dfdg:d:pending:0', 'social:a:pending:0']);
  });

  it('a failed commit fails every caller of the group', async () => {
    database = await openLibsqlDatabase(':memory:');
    const repository = inboundWebhookRepository(database);
    await database.close();
    const outcomes = await Promise.allSettled([repository.receive(notice('x')), repository.receive(notice('y'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    database = undefined;
  });

  it('finds waiting notices through the waiting index, not by walking the table', async () => {
    database = await openLibsqlDatabase(':memory:');
    const repository = inboundWebhookRepository(database);
    await repository.receive(notice('w'));
    const client = (database.db as unknown as { $client: ReturnType<typeof createClient> }).$client;
    const seen: { sql: string; args: unknown[] }[] = [];
    const execute = client.execute.bind(client);
    client.execute = ((statement: { sql: string; args: unknown[] }) => {
      seen.push(statement);
      return execute(statement as never);
    }) as typeof client.execute;
    await repository.waiting('2026-11-23T10:00:00.000Z');
    await repository.claim('101', 'dfdg', '2026-11-23T10:00:00.000Z', '2026-11-23T10:15:00.000Z');
    client.execute = execute;
    const selects = seen.filter((s) => /^select/i.test(s.sql));
    expect(selects).toHaveLength(2);
    for (const { sql, args } of selects) {
      const rows = await client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: args as never[] });
      expect(rows.rows.map((r) => String(r.detail)).join(' | ')).toMatch(/USING (COVERING )?INDEX inbound_webhooks_waiting/);
    }
  });
});
