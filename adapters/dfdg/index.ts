/** The DFDG adapter's door: factory, contract, simulator and record generators. */
export { createDfdgAdapter, readDfdgRecordXml, parseDfdgRecordXml, DFDG_ID_NAMESPACE, type DfdgAdapter, type DfdgAdapterOptions } from './adapter';
export * from './contract';
export { startDfdgSimulator, type DfdgSimulator, type DfdgSimulatorOptions } from './simulator';
export { generateDfdgRecordXml, type GeneratedDfdgRecord } from './records';
