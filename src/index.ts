/**
 * offthread: a persistent job queue for the browser. Jobs are stored in
 * IndexedDB, run on a pool of Web Workers, and watched through live handles.
 *
 * @packageDocumentation
 */
export { createQueue, Queue } from './queue.js'
export type { BulkJob, ListOptions, QueueEvents, QueueRole } from './queue.js'
export type { JobHandle, JobHandleEvents, WaitOptions } from './handle.js'
export type { FlowHandle } from './flow-handle.js'
export type { Schedule, ScheduleOptions } from './scheduler.js'
export type { ChainOutput, FlowJob, FlowStep, GroupOutput, StepOutput } from './flow.js'
export type { QueueOptions, RetentionOptions, RetentionRule } from './options.js'
export type { WorkerLike } from './pool/pool.js'
export { memoryStore } from './store/memory-store.js'
export { idbStore } from './store/idb-store.js'
export type { IdbStoreOptions } from './store/idb-store.js'
export type { JobRecord, ListQuery, ScheduleRecord, Store, StoredJob, WriteOp, WriteResult } from './store/store.js'
export {
  OffthreadError,
  JobFailedError,
  JobCancelledError,
  JobTimeoutError,
  JobDataError,
  UnknownTaskError,
  InterruptedError,
  QueueClosedError,
  WorkerError,
  RetryError,
} from './errors.js'
export type { OffthreadErrorCode } from './errors.js'
export type { BackoffFunction, ErrorMatcher, RetryOptions } from './retry.js'
export type {
  ErrorRecord,
  JobContext,
  JobOptions,
  JobSnapshot,
  JobStatus,
  LogEntry,
  Progress,
  SerializedError,
  TaskDefinition,
  TaskHandler,
  TaskInput,
  TaskMap,
  TaskOutput,
} from './types.js'
