/** Consent: one policy function, the dated rules of whose consent counts, and what a revocation removes. */
export * from './policy';
export * from './rules';
export * from './revocation';
