/** Evaluation figures (R22): half-year periods, the pure computation, small-count suppression. */
export * from './period';
export * from './suppression';
export * from './evaluation';
