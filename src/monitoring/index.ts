/** Monitoring's door: the structured log, the overview (and its Prometheus form), the dashboard pages. */
export { createLogger, createMemoryLogger, type Logger, type LogLevel, type LogSink } from './log';
export { monitoringOverview, toPrometheus, type MappingHealth, type MonitoringOverview } from './overview';
export { Dashboard, SignIn } from './dashboard';
export { ProcessingRecordPage } from './processing-record-page';
