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
 * With CPR_LEGACY_CIPHERTEXTS=refuse the vault refuses v1/v2 values, so they are not re-sealed: one
 * moved or restored into a row would otherwise come out as v3 bound to that row. They are left,
 * logged (ids only) and counted as `refused`. `legacyCiphertextsLeft` tells IT staff when `refuse`
 * can be set: at 0 after a whole scan (`more` false) under `open`.
 *
 * Runs at the service's start on Node and with retention (nightly, and on Workers' retention
 * trigger), a bounded number of pages per run; with nothing left to move it is one scan of each
 * column. Rows are updated only if unchanged since read, so it can run beside the service and be
 * interrupted at any point.
 */
import type { AppDeps } from '../api/context';
import { sealedColumnNames } from '../store/sealed';
import { LegacyCiphertextRefusedError } from './cpr-vault';

export interface RekeySummary {
  citizens: number;
  sealedValues: number;
  /** Rows that could not be re-keyed (their key is not configured, the value was sealed for another row, or another row already has the citizen's new hash); left as they are and logged. */
  failures: number;
  /** v1/v2 values not re-sealed because CPR_LEGACY_CIPHERTEXTS is `refuse`; left as they are and logged. */
  refused: number;
  /** v1/v2 values this run saw and left (refused, or failed): with `more` false, all the database holds. */
  legacyCiphertextsLeft: number;
  /** Whether rows under other keys may remain (the run stopped at its page limit). */
  more: boolean;
}

const isLegacy = (value: string) => value.startsWith('v1:') || value.startsWith('v2:');

export async function rekeyToCurrentKey(deps: Pick<AppDeps, 'store' | 'vault' | 'logger'>, options: { pageSize?: number; maxPages?: number } = {}): Promise<RekeySummary> {
  const { store, vault, logger } = deps;
  const pageSize = options.pageSize ?? 500;
  let pagesLeft = options.maxPages ?? 200;
  const summary: RekeySummary = { citizens: 0, sealedValues: 0, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false };
  /** A value left as it is: refused (a v1/v2 under `refuse`) or failed; logged with ids, never the value. */
  const leave = (value: string, error: unknown, message: string, ids: Record<string, string>) => {
    if (isLegacy(value)) summary.legacyCiphertextsLeft++;
    if (error instanceof LegacyCiphertextRefusedError) {
      summary.refused++;
      logger.warn(`${message}: an earlier format (v1/v2) refused with CPR_LEGACY_CIPHERTEXTS=refuse, left as it is`, ids);
    } else {
      summary.failures++;
      logger.warn(message, { ...ids, error: error instanceof Error ? error.message : String(error) });
    }
  };
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
        leave(row.cprCipher, error, 'a citizen’s CPR could not be re-keyed', { citizenId: row.id });
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
          leave(row.was, error, 'a citizen’s CPR could not be re-keyed: another citizen row has the same CPR', { citizenId: row.id });
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
          leave(row.value, error, 'a sealed value could not be re-keyed', { column: name, id: row.id });
        }
      }
      summary.sealedValues += await store.sealed.replace(name, resealed);
    }
  }
  return summary;
}
