/**
 * offthread: a persistent job queue for the browser. Jobs are stored in
 * IndexedDB, run on a pool of Web Workers, and watched through live handles.
 *
 * @packageDocumentation
 */
export { createQueue, Queue } from './queue/queue.js'
export type { LiveList, LiveStore, WatchQuery } from './queue/live.js'
export type { BulkJob, ListOptions, QueueEvents, QueueRole } from './queue/queue.js'
export type { JobHandle, JobHandleEvents, WaitOptions } from './queue/handle.js'
export type { FlowHandle } from './queue/flow-handle.js'
export type { Schedule, ScheduleOptions } from './runner/scheduler.js'
export type { ChainOutput, FlowJob, FlowStep, GroupOutput, StepOutput } from './queue/flow.js'
export type { QueueOptions, RetentionOptions, RetentionRule } from './queue/options.js'
export type { WorkerLike } from './pool/pool.js'
export { DEFAULT_LIST_LIMIT } from './shared/types.js'
export { memoryStore } from './store/memory-store.js'
export { idbStore } from './store/idb-store.js'
export type { IdbStoreOptions } from './store/idb-store.js'
export type { JobRecord, ListQuery, ScheduleRecord, Store, StoredJob, StoredReleases, WriteOp, WriteResult } from './store/store.js'
export type { ReleaseRecord, Version } from './shared/release.js'
export {
  OffthreadError,
  JobFailedError,
  JobCancelledError,
  JobTimeoutError,
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
  ErrorRecord,
  JobContext,
  TaskContext,
  TaskProgress,
  TaskSnapshot,
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
} from './shared/types.js'
