/**
 * The public surface, pinned: the names `offthread`, `offthread/store` and `offthread/react`
 * export (types read with the TypeScript compiler from src/, values from the built dist/),
 * so that a name added or dropped fails here and is a decision, not an accident.
 */
import { join } from 'node:path'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureDist, repoRoot } from './helpers/ensure-dist.js'

/** What a page calls, and the types of what it touches (options, handles, snapshots, events, errors). */
const MAIN = {
  values: [
    'createQueue',
    'idbStore',
    'memoryStore',
    'OffthreadError',
    'JobFailedError',
    'JobCancelledError',
    'JobTimeoutError',
    'TimeoutError',
    'JobDataError',
    'UnknownTaskError',
    'InterruptedError',
    'QueueClosedError',
    'StorageBlockedError',
    'WorkerError',
    'RetryError',
  ],
  types: [
    'Queue',
    'QueueOptions',
    'RetentionOptions',
    'RetentionRule',
    'IdbStoreOptions',
    'JobHandle',
    'JobHandleEvents',
    'WaitOptions',
    'FlowHandle',
    'ChainOutput',
    'FlowJob',
    'FlowStep',
    'GroupOutput',
    'StepOutput',
    'Schedule',
    'ScheduleOptions',
    'JobLookup',
    'JobLookupState',
    'LiveJobStore',
    'LiveList',
    'LiveResult',
    'LiveState',
    'LiveStore',
    'WatchQuery',
    'Version',
    'OffthreadErrorCode',
    'BackoffFunction',
    'ErrorMatcher',
    'RetryOptions',
    'AnySnapshot',
    'BulkJob',
    // What a page reads: handle.errors(), snapshot.error, the failed event's value.
    'ErrorRecord',
    'JobOptions',
    'JobSnapshot',
    'JobStatus',
    'ListOptions',
    'LogEntry',
    'Progress',
    'QueueEvents',
    'QueueRole',
    'SerializedError',
    'TaskContext',
    'TaskDefinition',
    'TaskHandler',
    'TaskInput',
    'TaskMap',
    'TaskOutput',
    'TaskProgress',
    'TaskSnapshot',
  ],
}

/** What a store author needs: the Store interface, its records, and the contract suite. */
const STORE = {
  values: ['runStoreContract', 'signalStep', 'idbStore', 'memoryStore'],
  types: [
    'Store',
    'JobRecord',
    'ScheduleRecord',
    'StoredJob',
    'StoredReleases',
    'WriteOp',
    'WriteResult',
    'ReleaseRecord',
    'ErrorRecord',
    'JobStatus',
    'ListOptions',
    'LogEntry',
    'SerializedError',
    'ContractMatchers',
    'StoreContractApi',
    'StoreContractOptions',
  ],
}

const REACT = {
  values: ['useCounts', 'useJob', 'useJobs', 'useQueueError', 'useRole'],
  types: ['JobLookup', 'JobLookupState', 'LiveCounts', 'LiveJobs', 'LiveState'],
}

const ENTRIES = { offthread: 'index', 'offthread/store': 'store', 'offthread/react': 'react' } as const
const PINNED = { offthread: MAIN, 'offthread/store': STORE, 'offthread/react': REACT }

/** The names each entry exports, split into values and type-only exports (`export type`, interfaces, aliases). */
function surfaces(): Record<keyof typeof ENTRIES, { values: string[]; types: string[] }> {
  const files = Object.values(ENTRIES).map((name) => join(repoRoot, 'src', `${name}.ts`))
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  })
  const checker = program.getTypeChecker()
  const read = (file: string): { values: string[]; types: string[] } => {
    const source = program.getSourceFile(file)
    const module = source && checker.getSymbolAtLocation(source)
    if (!module) throw new Error(`no module at ${file}`)
    const out = { values: [] as string[], types: [] as string[] }
    for (const symbol of checker.getExportsOfModule(module)) {
      const declaration = symbol.declarations?.[0]
      const typeOnly =
        declaration !== undefined && ts.isExportSpecifier(declaration) && (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly)
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
      const isValue = !typeOnly && (target.flags & ts.SymbolFlags.Value) !== 0
      out[isValue ? 'values' : 'types'].push(symbol.name)
    }
    return out
  }
  return Object.fromEntries(Object.entries(ENTRIES).map(([entry], i) => [entry, read(files[i] as string)])) as ReturnType<typeof surfaces>
}

const sorted = (names: readonly string[]): string[] => [...names].sort()

describe('the public surface', () => {
  const found = surfaces()

  it.each(Object.keys(ENTRIES) as Array<keyof typeof ENTRIES>)('%s exports the pinned names, values and types, and no other', (entry) => {
    expect(sorted(found[entry].values), `${entry}: values`).toEqual(sorted(PINNED[entry].values))
    expect(sorted(found[entry].types), `${entry}: types`).toEqual(sorted(PINNED[entry].types))
  })

  it('offthread keeps no store internals: the Store contract and its records are in offthread/store only', () => {
    const main = [...found.offthread.values, ...found.offthread.types]
    for (const name of ['Store', 'JobRecord', 'WriteOp', 'WriteResult', 'StoredJob', 'ScheduleRecord', 'StoredReleases', 'runStoreContract'])
      expect(main, name).not.toContain(name)
    for (const name of ['DEFAULT_LIST_LIMIT', 'WorkerLike', 'ListQuery', 'JobContext']) expect(main, name).not.toContain(name)
    // A type, not a value: `queue instanceof Queue` is not part of the API.
    expect(found.offthread.values).not.toContain('Queue')
  })

  describe('the built package (dist/)', () => {
    beforeAll(ensureDist, 120_000)

    it.each(Object.entries(ENTRIES))('%s exports the pinned values at run time', async (entry, file) => {
      const module = (await import(new URL(`../../dist/${file}.js`, import.meta.url).href)) as Record<string, unknown>
      expect(sorted(Object.keys(module))).toEqual(sorted(PINNED[entry as keyof typeof ENTRIES].values))
    })
  })
})
