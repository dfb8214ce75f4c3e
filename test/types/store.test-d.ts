import { describe, expect, expectTypeOf, it } from 'vitest'
import { createQueue, type QueueOptions, type TaskContext } from 'offthread'
import { memoryStore, runStoreContract, type JobRecord, type Store, type StoreContractApi, type WriteOp } from 'offthread/store'
import type { TaskContext as WorkerTaskContext } from 'offthread/worker'

describe('offthread/store', () => {
  it("a Store from offthread/store is what createQueue's `store` option takes", () => {
    expectTypeOf<Store>().toEqualTypeOf<NonNullable<QueueOptions['store']>>()
    expectTypeOf(createQueue).toBeCallableWith({ store: memoryStore() })
  })

  it("takes a store factory and Vitest's describe, it and expect", () => {
    expectTypeOf(runStoreContract).toBeCallableWith(() => memoryStore(), { describe, it, expect })
    expectTypeOf(runStoreContract).toBeCallableWith(memoryStore, { describe, it, expect }, { timeout: 20_000, prefix: 'mine-' })
    expectTypeOf({ describe, it, expect }).toMatchTypeOf<StoreContractApi>()
    expectTypeOf(runStoreContract).returns.toBeVoid()
  })

  it('gives a store author the records of the interface', () => {
    expectTypeOf<Parameters<Store['write']>[0]>().toEqualTypeOf<readonly WriteOp[]>()
    expectTypeOf<Awaited<ReturnType<Store['get']>>>().toEqualTypeOf<Array<JobRecord | undefined>>()
  })
})

describe('offthread', () => {
  it('exports no store internals (they are in offthread/store)', () => {
    // @ts-expect-error: Store is in offthread/store
    expectTypeOf<import('offthread').Store>()
    // @ts-expect-error: JobRecord is in offthread/store
    expectTypeOf<import('offthread').JobRecord>()
    // @ts-expect-error: WriteOp is in offthread/store
    expectTypeOf<import('offthread').WriteOp>()
    // @ts-expect-error: DEFAULT_LIST_LIMIT is internal
    expectTypeOf<typeof import('offthread').DEFAULT_LIST_LIMIT>()
  })

  it('has one name for the handler context, TaskContext, the same in offthread and offthread/worker', () => {
    expectTypeOf<TaskContext>().toEqualTypeOf<WorkerTaskContext>()
    // @ts-expect-error: JobContext was a second name for TaskContext
    expectTypeOf<import('offthread/worker').JobContext>()
  })
})
