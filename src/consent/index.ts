/** Consent: one policy function and the dated rules of whose consent counts. */
export * from './policy';
export * from './rules';
