/**
 * CPR key rotation. A municipality changes CPR_KEY (a key leaked, or its policy says yearly) and
 * lists the earlier key in CPR_KEYS_RETIRED. Everything keeps working at once — ciphertexts say
 * which key opens them, citizens are found by any configured key's hash — and this job moves what
 * the retired keys hold to the current key: every citizen's CPR ciphertext and lookup hash,
 * quarantined payloads and subscribers' signing secrets. When IT staff's overview counts nothing
 * left under a retired key (`cprKeyRotation.valuesUnderRetiredKeys`), it can leave the configuration.
 * The same pass moves ciphertexts of an earlier format (v1, v2: not bound to their row) to the
 * current one (v3), with or without a key change: anything not starting with `currentPrefix`.
 *
 * Runs at the service's start on Node and with retention (nightly, and on Workers' retention
 * trigger), a bounded number of pages per run; with nothing left to move it is one scan of each
 * column. Rows are updated only if unchanged since read, so it can run beside the service and be
 * interrupted at any point.
 */
import type { AppDeps } from '../api/context';
import { sealedColumnNames } from '../store/sealed';

export interface RekeySummary {
  citizens: number;
  sealedValues: number;
  /** Rows that could not be re-keyed (their key is not configured, the value was sealed for another row, or another row already has the citizen's new hash); left as they are and logged. */
  failures: number;
  /** Whether rows under other keys may remain (the run stopped at its page limit). */
  more: boolean;
}

export async function rekeyToCurrentKey(deps: Pick<AppDeps, 'store' | 'vault' | 'logger'>, options: { pageSize?: number; maxPages?: number } = {}): Promise<RekeySummary> {
  const { store, vault, logger } = deps;
  const pageSize = options.pageSize ?? 500;
  let pagesLeft = options.maxPages ?? 200;
  const summary: RekeySummary = { citizens: 0, sealedValues: 0, failures: 0, more: false };
  const prefix = vault.currentPrefix;

  for (let after = ''; ; ) {
    if (pagesLeft-- <= 0) return { ...summary, more: true };
    const page = await store.citizens.underOtherKey(prefix, after, pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const rekeyed: { id: string; cprHash: string; cprCipher: string; was: string }[] = [];
    for (const row of page) {
      try {
        const citizen = { tenant: row.tenant, citizenId: row.id };
        const cpr = await vault.decrypt(row.cprCipher, citizen);
        rekeyed.push({ id: row.id, cprHash: await vault.hash(row.tenant, cpr), cprCipher: await vault.encrypt(cpr, citizen), was: row.cprCipher });
      } catch (error) {
        summary.failures++;
        logger.warn('a citizen’s CPR could not be re-keyed', { citizenId: row.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    try {
      summary.citizens += await store.citizens.rekey(rekeyed);
    } catch {
      // One row's new hash is taken (the same person stored twice): re-key the others one by one.
      for (const row of rekeyed) {
        try {
          summary.citizens += await store.citizens.rekey([row]);
        } catch (error) {
          summary.failures++;
          logger.warn('a citizen’s CPR could not be re-keyed: another citizen row has the same CPR', { citizenId: row.id, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }

  for (const name of sealedColumnNames) {
    for (let after = ''; ; ) {
      if (pagesLeft-- <= 0) return { ...summary, more: true };
      const page = await store.sealed.underOtherKey(name, prefix, after, pageSize);
      if (page.length === 0) break;
      after = page[page.length - 1]!.id;
      const resealed: { id: string; value: string; was: string }[] = [];
      for (const row of page) {
        try {
          const place = { column: name, tenant: row.tenant, id: row.id };
          resealed.push({ id: row.id, value: await vault.sealPayload(await vault.openPayload(row.value, place), place), was: row.value });
        } catch (error) {
          summary.failures++;
          logger.warn('a sealed value could not be re-keyed', { column: name, id: row.id, error: error instanceof Error ? error.message : String(error) });
        }
      }
      summary.sealedValues += await store.sealed.replace(name, resealed);
    }
  }
  return summary;
}
