/**
 * STAR-style SOAP fault codes and their meaning for retries. STAR publishes codes such as 1010
 * "unknown CPR"; the full list is not public, so this table is MODELLED on that style and shared
 * by the DFDG and Ungedatabasen simulators and adapters. Align it when the real lists are known.
 */
import { AdapterError } from '../adapter';
import type { SoapFault } from './envelope';
import { redactCpr } from '../../src/security/redact';

export interface FaultCodeMeaning {
  permanent: boolean;
  meaning: string;
}

export const starFaultCodes = {
  '1001': { permanent: true, meaning: 'the request XML was refused (DOCTYPE, entities, size or not well-formed)' },
  '1010': { permanent: true, meaning: 'unknown CPR number' },
  '1020': { permanent: true, meaning: 'the request does not match the service contract' },
  '1030': { permanent: true, meaning: 'unknown code in the request' },
  '1040': { permanent: true, meaning: 'the transaction identifier was used before with different content' },
  '5000': { permanent: false, meaning: 'internal error in the service' },
  '5030': { permanent: false, meaning: 'the service is temporarily unavailable' },
} as const satisfies Record<string, FaultCodeMeaning>;
export type StarFaultCode = keyof typeof starFaultCodes;

/** Remove anything shaped like a CPR number from text that may end up in logs (S4): the service's one rule. */
export { redactCpr };

/**
 * A fault as an AdapterError. Known codes decide permanence; unknown codes fall back on SOAP 1.1's
 * own split: `Client` faults are the caller's (permanent), `Server` faults may pass (transient).
 */
export function faultToAdapterError(fault: SoapFault, serviceName: string): AdapterError {
  const known = fault.errorCode !== undefined ? (starFaultCodes as Record<string, FaultCodeMeaning>)[fault.errorCode] : undefined;
  const permanent = known ? known.permanent : fault.faultCode !== 'Server';
  const code = fault.errorCode ?? `soap-${fault.faultCode.toLowerCase()}`;
  const meaning = known ? `${known.meaning}: ` : '';
  return new AdapterError(`${serviceName} fault ${code}: ${meaning}${redactCpr(fault.faultString).slice(0, 300)}`, permanent, code);
}
