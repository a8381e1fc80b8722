/**
 * Small-count suppression for published figures (R22: aggregates only, nobody singled out).
 *
 * - Primary: every count from 1 to 4 is withheld (`{ value: null, suppressed: true }`); 0 is shown.
 * - Secondary, for a breakdown whose cells add up to a published total: as long as exactly one cell
 *   is withheld, or the withheld cells add up to less than 5, the smallest other non-zero cell is
 *   withheld too — so no withheld cell can be worked out by subtracting the shown cells from the
 *   total. A withheld cell may therefore hold more than 4; the marker does not say which rule hid it.
 * - A breakdown whose total is itself withheld is withheld whole, zeros included: otherwise a lone
 *   non-zero cell would tell that all of those few citizens share one trait.
 */
export const SUPPRESSION_THRESHOLD = 5;

export interface Cell {
  value: number | null;
  suppressed: boolean;
}

const shown = (value: number): Cell => ({ value, suppressed: false });
const withheld = (): Cell => ({ value: null, suppressed: true });
const isSmall = (n: number) => n >= 1 && n < SUPPRESSION_THRESHOLD;

/** One count on its own (not part of a breakdown with a published total). */
export function suppressCount(n: number): Cell {
  return isSmall(n) ? withheld() : shown(n);
}

/** A breakdown of `total` into `cells` (they must add up to it), with primary and secondary suppression. */
export function suppressBreakdown(total: number, cells: readonly number[]): { total: Cell; cells: Cell[] } {
  const sum = cells.reduce((a, b) => a + b, 0);
  if (sum !== total) throw new Error(`a breakdown must add up to its total (${sum} ≠ ${total})`);
  if (isSmall(total)) return { total: withheld(), cells: cells.map(withheld) };
  const hidden = cells.map(isSmall);
  for (;;) {
    const hiddenCount = hidden.filter(Boolean).length;
    const hiddenSum = cells.reduce((a, n, i) => a + (hidden[i] ? n : 0), 0);
    if (hiddenCount === 0 || (hiddenCount > 1 && hiddenSum >= SUPPRESSION_THRESHOLD)) break;
    let next = -1;
    cells.forEach((n, i) => {
      if (!hidden[i] && n > 0 && (next < 0 || n < cells[next]!)) next = i;
    });
    // No other non-zero cell: the withheld ones then add up to the total, which is shown and at least 5.
    if (next < 0) break;
    hidden[next] = true;
  }
  return { total: shown(total), cells: cells.map((n, i) => (hidden[i] ? withheld() : shown(n))) };
}
