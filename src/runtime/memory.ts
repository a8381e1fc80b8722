/**
 * Heap settings for the processes and worker threads that sync. A sync's live heap stays small
 * (≈ 36 MB at 5,000–10,000 citizens, measured with --trace-gc in B2), but V8's default growth lets
 * garbage pile up to ~150 MB before a full collection. Bounding the old and young generations
 * keeps the resident set near what is live, for a little more collection work. `npm start` passes
 * the same numbers as V8 flags (package.json); B2 runs with them (bench/run.ts).
 */
// Young generation 3 × 16 MB: with 8 MB semi-spaces the B2 sync (50,000 citizens) used ~9 % more
// CPU, mostly scavenging short-lived chunk data, for 11 MB less peak RSS (265 vs 276 MB; goal 300).
export const syncHeap = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 48 } as const;

/** The same limits as V8 command-line flags (the young generation is three semi-spaces). */
export const syncHeapFlags = [`--max-old-space-size=${syncHeap.maxOldGenerationSizeMb}`, `--max-semi-space-size=${syncHeap.maxYoungGenerationSizeMb / 3}`];
