/** Databases as an earlier release left them, for testing what a migration does to existing rows. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsFolder } from '../../src/store/libsql';

/** A copy (under `dir`) of the migrations folder as it was up to `lastTag`: the same files, the journal cut after it. */
export function migrationsUpTo(dir: string, lastTag: string): string {
  const folder = join(dir, `migrations-${lastTag}`);
  cpSync(migrationsFolder, folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === lastTag) + 1);
  writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}
