/** The Én plan model: the shared language of every adapter, mapping and route. */
export * from './common';
export * from './cpr';
export * from './provenance';
export * from './lifecycle';
export * from './plan';
export * from './consent';
export * from './fragment';
