/**
 * The queue's options as the runner reads them (the queue's resolved options
 * fit this shape).
 */
import type { GroupLimits, ResolvedJobDefaults } from '../shared/options.js'

/** The queue's options the runner reads. */
export interface RunnerOptions {
  readonly concurrency: number
  readonly defaults: ResolvedJobDefaults
  readonly stallTimeout: number | undefined
  readonly abortGrace: number
  /** Every job group's limits (`createQueue({ groups })`), under a task's and a group's own. */
  readonly groups?: GroupLimits | undefined
}
