/**
 * Releases of an app: what tabs of two builds sharing one queue know of each other.
 * A release is the app's `version` (or, without one, a fingerprint of its worker
 * module's tasks) and its task list. Pure functions only: the queue, the runner and
 * the stores all use them.
 */
import type { TaskMeta, WorkerManifest } from './protocol.js'

/** An app's release: the `version` option of `createQueue`, or a fingerprint of its tasks. */
export type Version = string | number

/** A release as the store keeps it: its version and the tasks its worker module defines. */
export interface ReleaseRecord {
  /** The app's `version`, or the fingerprint of its tasks (`tasks:…`) where it set none. */
  version: Version
  /** Its worker module's tasks, with their options, as its pool read them. */
  tasks: Record<string, TaskMeta>
  /** When a tab of this release last announced it (ms since epoch). */
  seenAt: number
}

/** Dotted numbers: `3`, `1.2`, `2026.12.07`. */
const DOTTED = /^\d+(\.\d+)*$/

/**
 * How release `a` orders against `b`: 1 newer, -1 older, 0 the same, undefined when
 * they cannot be ordered (two strings that are not dotted numbers, and differ).
 * Numbers compare numerically; dotted numbers part by part (a missing part is 0:
 * `1.2` is `1.2.0`); any other string only equals itself.
 */
export function compareVersions(a: Version, b: Version): -1 | 0 | 1 | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a > b ? 1 : a < b ? -1 : 0
  const x = String(a)
  const y = String(b)
  if (DOTTED.test(x) && DOTTED.test(y)) {
    const xs = x.split('.').map(Number)
    const ys = y.split('.').map(Number)
    for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
      const d = (xs[i] ?? 0) - (ys[i] ?? 0)
      if (d !== 0) return d > 0 ? 1 : -1
    }
    return 0
  }
  return typeof a === typeof b && x === y ? 0 : undefined
}

/** A release's key in the store (the number 2 and the string "2" are one release, as they compare equal). */
export function releaseKey(version: Version): string {
  return String(version)
}

/**
 * A stable fingerprint of a worker module's tasks (names and options): the release of
 * an app that sets no `version`. Two builds with the same tasks share it.
 */
export function fingerprint(manifest: WorkerManifest): string {
  const text = stableStringify(manifest.tasks)
  // FNV-1a, twice (two seeds): 64 bits in hex, plenty to tell a handful of releases apart.
  let h1 = 0x811c9dc5
  let h2 = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h2 >>> 15)
  }
  return `tasks:${(h1 >>> 0).toString(16).padStart(8, '0')}${(h2 >>> 0).toString(16).padStart(8, '0')}`
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** Checks a `version` option: a finite number, or a non-empty string of at most 200 characters. */
export function isVersion(value: unknown): value is Version {
  return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length > 0 && value.length <= 200)
}

/**
 * What a runner of release `runner` does with a job of release `job` whose task it
 * does not know: `'fail'` (UnknownTaskError) when its release is at least as new as
 * the job's, so the task was dropped; else `'wait'` for a release that knows it.
 * A job of no known release (added by a tab that knew none) waits only where some
 * other release the store knows (`others`) defines its task.
 */
export function unknownTaskVerdict(runner: Version, job: Version | undefined, task: string, others: readonly ReleaseRecord[]): 'fail' | 'wait' {
  if (job === undefined) {
    return others.some((r) => compareVersions(r.version, runner) !== 0 && task in r.tasks) ? 'wait' : 'fail'
  }
  const order = compareVersions(runner, job)
  return order === 0 || order === 1 ? 'fail' : 'wait'
}

/**
 * Whether the runner of release `mine` hands the queue to a tab of release `other`
 * waiting in line. Newer by order: yes. Unordered: only when `other` defines every
 * task of `mine` and more, one of which a waiting job needs (`needed`), and no live
 * release is newer than `other` (so that the two rules together cannot cycle).
 */
export function shouldHandOver(mine: ReleaseRecord, other: ReleaseRecord, needed: ReadonlySet<string>, live: readonly ReleaseRecord[]): boolean {
  const order = compareVersions(other.version, mine.version)
  if (order !== undefined) return order === 1
  const names = Object.keys(mine.tasks)
  if (!names.every((name) => name in other.tasks)) return false
  const extra = Object.keys(other.tasks).filter((name) => !(name in mine.tasks))
  if (extra.length === 0 || !extra.some((name) => needed.has(name))) return false
  return !live.some((r) => compareVersions(r.version, other.version) === 1)
}
