/** Auth (JWT/JWKS), roles, CPR protection. Tenant scoping lives in the store; the audit chain too. */
export * from './principal';
export * from './tokens';
export * from './cpr-vault';
export * from './redact';
