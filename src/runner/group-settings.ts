/**
 * The runner's view of job groups' limits (`JobOptions.group`): the queue's `groups`
 * option, and each group's own settings (`queue.groups.set`, `.pause`), read from the
 * store when the runner starts and again whenever a tab or process says they changed.
 */
import type { GroupLimits } from '../shared/options.js'
import type { GroupRecord, Store } from '../store/store.js'
import type { GroupSource } from './limits.js'

/** Each group's own settings, as stored, over the queue's limits for every group. */
export class GroupSettings implements GroupSource {
  readonly queue: GroupLimits | undefined
  #store: Store
  #own = new Map<string, GroupRecord>()

  /** @param queue - the queue's `groups` option */
  constructor(store: Store, queue: GroupLimits | undefined) {
    this.#store = store
    this.queue = queue
  }

  own(id: string): GroupRecord | undefined {
    return this.#own.get(id)
  }

  /**
   * Reads the settings again (none where the store keeps none).
   *
   * @returns the ids of the groups whose settings changed
   */
  async read(): Promise<Set<string>> {
    const records = (await this.#store.groups?.()) ?? []
    const read = new Map(records.map((record) => [record.id, record]))
    const changed = new Set<string>()
    for (const [id, record] of read) if (!same(record, this.#own.get(id))) changed.add(id)
    for (const id of this.#own.keys()) if (!read.has(id)) changed.add(id)
    this.#own = read
    return changed
  }
}

const same = (a: GroupRecord, b: GroupRecord | undefined): boolean =>
  b !== undefined &&
  a.paused === b.paused &&
  a.limits?.concurrency === b.limits?.concurrency &&
  a.limits?.rateLimit?.max === b.limits?.rateLimit?.max &&
  a.limits?.rateLimit?.per === b.limits?.rateLimit?.per
