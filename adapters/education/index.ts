/** The Ungedatabasen / KUI adapter's door: factory, contract, simulator and record generators. */
export {
  createEducationAdapter,
  readEducationRecordXml,
  parseEducationRecordXml,
  EDUCATION_ID_NAMESPACE,
  type EducationAdapter,
  type EducationAdapterOptions,
} from './adapter';
export * from './contract';
export { startEducationSimulator, type EducationSimulator, type EducationSimulatorOptions } from './simulator';
export { generateEducationRecordXml, type GeneratedEducationRecord } from './records';
