/**
 * Single registration (R17): the request kinds, applying one to a plan with provenance, routing it
 * to the sector systems under consent, and the service that stores it with its outbox rows in one
 * atomic batch.
 */
export * from './kinds';
export * from './apply';
export * from './routing';
export * from './service';
