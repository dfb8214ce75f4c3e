/**
 * offthread: a persistent job queue for the browser. Jobs are stored in
 * IndexedDB, run on a pool of Web Workers, and watched through live handles.
 *
 * This entry holds what a page calls and the types of what it touches. A store
 * of your own (the `Store` interface, its records, the contract suite) is
 * written against `offthread/store`.
 *
 * @packageDocumentation
 */
export { createQueue } from './queue/create.js'
export type { Queue } from './queue/queue.js'
export type { QueueOptions, RetentionOptions, RetentionRule } from './queue/options.js'
export { idbStore } from './store/idb-store.js'
export type { IdbStoreOptions } from './store/idb-store.js'
export { memoryStore } from './store/memory-store.js'
export type { JobHandle, JobHandleEvents, WaitOptions } from './queue/handle.js'
export type { FlowHandle } from './queue/flow-handle.js'
export type { ChainOutput, FlowJob, FlowStep, GroupOutput, StepOutput } from './queue/flow.js'
export type { Schedule, ScheduleOptions } from './runner/scheduler.js'
export type { JobLookup, JobLookupState, LiveJobStore, LiveList, LiveResult, LiveState, LiveStore, WatchQuery } from './queue/live.js'
export type { Version } from './shared/release.js'
export {
  OffthreadError,
  JobFailedError,
  JobCancelledError,
  JobTimeoutError,
  TimeoutError,
  JobDataError,
  UnknownTaskError,
  InterruptedError,
  QueueClosedError,
  StorageBlockedError,
  WorkerError,
  RetryError,
} from './shared/errors.js'
export type { OffthreadErrorCode } from './shared/errors.js'
export type { BackoffFunction, ErrorMatcher, RetryOptions } from './shared/retry.js'
export type {
  AnySnapshot,
  BulkJob,
  ErrorRecord,
  JobOptions,
  JobSnapshot,
  JobStatus,
  ListOptions,
  LogEntry,
  Progress,
  QueueEvents,
  QueueRole,
  SerializedError,
  TaskContext,
  TaskDefinition,
  TaskHandler,
  TaskInput,
  TaskMap,
  TaskOutput,
  TaskProgress,
  TaskSnapshot,
} from './shared/types.js'
