/** Monitoring: configured checks run on a schedule; results feed metrics, the store, health and alerts. */
export type { Check, CheckConfig, CheckDeps, CheckFactory, CheckOutcome, CheckType } from './check.js';
export { checks, createCheck } from './registry.js';
export { HttpCheck } from './checks/http.js';
export { CheckScheduler } from './scheduler.js';
export type { CheckSchedulerOptions } from './scheduler.js';
export { MonitorService } from './monitor-service.js';
export type { CheckHealth, MonitorDeps } from './monitor-service.js';
export { describeRequestFailure, loggableUrl, splitUrlCredentials } from './http-request.js';
