/** Shared SOAP 1.1 / hardened XML pieces of the DFDG and Ungedatabasen adapters. */
export * from './xml';
export * from './envelope';
export * from './faults';
export * from './transport';
export * from './identifiers';
export * from './records';
export * from './batch-read';
export * from './change-log';
export * from './change-list';
export * from './read-side';
export * from './code-list';
export { startSoapSimulator, answerBatchRead, answerChangeList, SimulatedFault, noFaults, type SimulatorFaults, type SoapSimulatorServer, type SoapSimulatorOptions, type LoggedRequest } from './simulator-kit';
export * from './synthetic';
export * from './write-ledger';
export * from './mapping-support';
