/** Dated legal rule sets as data (R25) and what they require of a plan (R2). */
export * from './schema';
export * from './sector-plans';
export * from './completeness';
export * from './routing';
