/**
 * Workflows built on dependencies: `chain` (each step's result is the next
 * step's input) and `group` (jobs in parallel, their results in order), nested
 * in any way, expanded into plain jobs with `dependsOn` so that every step is
 * stored, and a flow resumes after a reload at the step it reached.
 *
 * A group's results are gathered by a join job, which the runner completes
 * itself (no worker) once all members have completed.
 */
import { Flow, type FlowHandle } from './flow-handle.js'
import type { JobHandle } from './handle.js'
import { newId } from '../shared/ids.js'
import type { Inserter, Prepared } from './insert.js'
import { invalidOption, resolveJobOptions } from '../shared/options.js'
import { JOIN_TASK, type JobOptions, type TaskInput, type TaskMap, type TaskName, type TaskOutput } from '../shared/types.js'

/** One job of a flow. In a chain, a step without `data` gets the previous step's result. */
export type FlowJob<T extends TaskMap> = {
  [K in TaskName<T>]: { name: K; data?: TaskInput<T[K]>; options?: Omit<JobOptions, 'dependsOn' | 'id'> }
}[TaskName<T>]

/** A step of a flow: a job, or a nested chain or group. */
export type FlowStep<T extends TaskMap> = FlowJob<T> | { chain: readonly FlowStep<T>[] } | { group: readonly FlowStep<T>[] }

/** What a step produces: a job its task's output, a chain its last step's, a group the tuple of its members'. */
export type StepOutput<T extends TaskMap, S> = S extends { name: infer K }
  ? K extends keyof T
    ? TaskOutput<T[K]>
    : unknown
  : S extends { chain: infer C }
    ? ChainOutput<T, C>
    : S extends { group: infer G }
      ? GroupOutput<T, G>
      : unknown

/**
 * The type error of a chain whose step takes the previous step's output (it has no
 * `data` of its own) but does not accept it: `unknown` (no error) when every step fits.
 */
export type ChainMismatch<T extends TaskMap, S, Prev = unknown, First extends boolean = true> = S extends readonly [infer H, ...infer Rest]
  ? StepFits<T, H, Prev, First> extends true
    ? ChainMismatch<T, Rest, StepOutput<T, H>, false>
    : { chainError: `a step has no data of its own and does not accept the previous step's output`; step: H; gets: Prev }
  : unknown
type StepFits<T extends TaskMap, H, Prev, First extends boolean> = First extends true
  ? true
  : H extends { data: unknown }
    ? true
    : H extends { name: infer K extends TaskName<T> }
      ? [Prev] extends [TaskInput<T[K]>]
        ? true
        : false
      : true

/** A chain's output: its last step's. */
export type ChainOutput<T extends TaskMap, C> = C extends readonly [...unknown[], infer L] ? StepOutput<T, L> : unknown

/** A group's output: its members' outputs, in order. */
export type GroupOutput<T extends TaskMap, G> = G extends readonly unknown[] ? { -readonly [I in keyof G]: StepOutput<T, G[I]> } : unknown[]

/** A plain job of an expanded flow, ready for `add`. */
export interface ExpandedJob {
  id: string
  name: string
  data: unknown
  /** Set when the job's input is the result of another job. */
  inputFrom?: string
  dependsOn: string[]
  options: Omit<JobOptions, 'dependsOn' | 'id'> | undefined
  /** A join job (internal), not a step the user wrote. */
  join: boolean
}

/**
 * Expands a step into jobs with ids `${prefix}`, `${prefix}.0`, `${prefix}.1`…,
 * so that adding the same flow with the same id again finds the same jobs.
 *
 * @param after - the job whose completion this step waits for (and whose result it may take)
 * @returns the jobs, and the id of the job whose result is the step's result
 */
export function expand(step: unknown, prefix: string, after: string | undefined, where: string): { jobs: ExpandedJob[]; terminal: string } {
  if (typeof step !== 'object' || step === null) {
    throw new TypeError(
      `Invalid flow step at ${where}: expected { name, data?, options? }, { chain: [...] } or { group: [...] }, received ${String(step)}`,
    )
  }
  const s = step as { name?: unknown; data?: unknown; options?: unknown; chain?: unknown; group?: unknown }
  if ('chain' in s || 'group' in s) {
    const list = s.chain ?? s.group
    if (!Array.isArray(list) || list.length === 0) {
      throw new TypeError(`Invalid flow step at ${where}: "${'chain' in s ? 'chain' : 'group'}" must be a non-empty array`)
    }
    const jobs: ExpandedJob[] = []
    if ('chain' in s) {
      let previous = after
      list.forEach((inner: unknown, i) => {
        const part = expand(inner, `${prefix}.${i}`, previous, `${where}.chain[${i}]`)
        jobs.push(...part.jobs)
        previous = part.terminal
      })
      return { jobs, terminal: previous as string }
    }
    const terminals = list.map((inner: unknown, i) => {
      const part = expand(inner, `${prefix}.${i}`, after, `${where}.group[${i}]`)
      jobs.push(...part.jobs)
      return part.terminal
    })
    jobs.push({ id: prefix, name: JOIN_TASK, data: undefined, dependsOn: terminals, options: undefined, join: true })
    return { jobs, terminal: prefix }
  }
  if (typeof s.name !== 'string' || s.name.length === 0) {
    throw new TypeError(`Invalid flow step at ${where}: "name" must be a task name`)
  }
  if (s.options !== undefined && (typeof s.options !== 'object' || s.options === null)) {
    throw new TypeError(`Invalid flow step at ${where}: "options" must be an object`)
  }
  const options = s.options as (JobOptions & Record<string, unknown>) | undefined
  if (options && ('id' in options || 'dependsOn' in options)) {
    throw new TypeError(`Invalid flow step at ${where}: a step's "id" and "dependsOn" are set by the flow`)
  }
  const job: ExpandedJob = {
    id: prefix,
    name: s.name,
    data: s.data,
    dependsOn: after === undefined ? [] : [after],
    options,
    join: false,
  }
  if (after !== undefined && !('data' in s)) job.inputFrom = after
  return { jobs: [job], terminal: prefix }
}

/**
 * Adds a flow (behind `queue.chain` and `queue.group`): expands it, checks
 * every job, and stores them all through `persist` in one transaction.
 *
 * @param inserter - the queue's insert path, which stores the flow's jobs
 * @returns the flow's handle over the jobs' handles
 */
export async function addFlow(
  root: { chain: readonly unknown[] } | { group: readonly unknown[] },
  options: { id?: string },
  inserter: Pick<Inserter, 'persist' | 'find'>,
): Promise<FlowHandle> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object { id? }', options)
  const id = options.id === undefined ? newId() : options.id
  if (typeof id !== 'string' || id.length === 0) throw invalidOption('id', 'a non-empty string', id)
  const { jobs, terminal } = expand(root, id, undefined, 'chain' in root ? 'steps' : 'jobs')
  const now = Date.now()
  const prepared: Prepared[] = jobs.map((job) => {
    if (job.name === JOIN_TASK && !job.join) throw invalidOption('name', 'a task name of the worker module', job.name)
    const resolved = resolveJobOptions({ ...job.options, id: job.id, dependsOn: job.dependsOn }, now)
    return job.inputFrom === undefined
      ? { name: job.name, data: job.data, options: resolved }
      : { name: job.name, data: job.data, options: resolved, inputFrom: job.inputFrom }
  })
  const steps = jobs.filter((job) => !job.join).map((job) => job.id)
  if (options.id !== undefined) {
    // Given again (a reload, a second call): the flow as stored, whatever retention deleted of its
    // finished steps. Inserting it again would run those steps a second time.
    const found = await inserter.find(jobs.map((job) => job.id))
    const existing = found.filter((handle): handle is JobHandle => handle !== undefined)
    const end = found[jobs.findIndex((job) => job.id === terminal)]
    if (end) return new Flow(id, end, steps, existing)
  }
  const handles = await inserter.persist(prepared, true, now)
  const byId = new Map(handles.map((h) => [h.id, h]))
  return new Flow(id, byId.get(terminal) as JobHandle, steps, handles)
}

/**
 * The arguments of `chain` after its steps: `options`; and, when a step without data of
 * its own does not accept the previous step's output, a required argument of the
 * mismatch's type, so that the call is a type error that shows the mismatch.
 */
export type ChainRest<T extends TaskMap, S> =
  unknown extends ChainMismatch<T, S> ? [options?: { id?: string }] : [options: { id?: string } | undefined, mismatch: ChainMismatch<T, S>]
