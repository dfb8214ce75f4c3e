/**
 * The page's half of shared/binary.ts: large binaries in a job's data are copied
 * into Blobs slice by slice, with a turn for the page between slices, before the
 * data is stored (the worker's half reads them back).
 */
import { binaryType, mapInData, someInData, TAG, type BinaryType, type StoredBinary } from '../shared/binary.js'
import { nextTurn } from '../shared/timers.js'

/** From this size on an `ArrayBuffer` (or view) is stored as a Blob. */
export const LARGE_BINARY = 1 << 20
/** The slice copied into the Blob between two turns of the page. */
const SLICE = 1 << 20
/** The work done between two turns of the page, ms. */
const BUDGET_MS = 8

function isLarge(value: unknown): value is ArrayBuffer | ArrayBufferView {
  if (binaryType(value) === undefined || (value as ArrayBuffer).byteLength < LARGE_BINARY) return false
  // A view on shared memory cannot be stored at all: left as it is, it fails as any uncloneable data does.
  return value instanceof ArrayBuffer || (value as ArrayBufferView).buffer instanceof ArrayBuffer
}

/** Whether `data` holds a large binary where {@link toStored} looks. */
export function hasLargeBinary(data: unknown): boolean {
  return someInData(data, isLarge)
}

/** Copies `value`'s bytes into a Blob slice by slice, giving the page a turn every few ms. */
async function toBlob(value: ArrayBuffer | ArrayBufferView): Promise<Blob> {
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer as ArrayBuffer, value.byteOffset, value.byteLength)
  const parts: Blob[] = []
  let since = performance.now()
  for (let offset = 0; offset < bytes.byteLength; offset += SLICE) {
    parts.push(new Blob([bytes.subarray(offset, offset + SLICE)]))
    if (performance.now() - since > BUDGET_MS) {
      await nextTurn()
      since = performance.now()
    }
  }
  return new Blob(parts)
}

async function store(value: ArrayBuffer | ArrayBufferView): Promise<StoredBinary> {
  return { [TAG]: binaryType(value) as BinaryType, blob: await toBlob(value) }
}

/**
 * The form in which `data` is stored: each large binary (the data, or a property or
 * item one level in) as a Blob; anything else as it is. `data` itself is not changed.
 */
export async function toStored(data: unknown): Promise<unknown> {
  return hasLargeBinary(data) ? mapInData(data, isLarge, store) : data
}

/** The bytes of the large binaries in `data` (what {@link toStored} turns into Blobs). */
function largeBytes(data: unknown): number {
  let total = 0
  someInData(data, (value) => {
    if (isLarge(value)) total += value.byteLength
    return false
  })
  return total
}

/**
 * Refuses data that cannot fit in what is left of the origin's storage, before any of it
 * is written. A Blob that a quota error aborts stays counted against the quota for a
 * while in Chromium (its file is removed later), so that the next small add failed too;
 * checked first, the big add fails alone. Where `navigator.storage.estimate` is missing
 * (WebKitGTK) or does not see the quota (Chromium under a DevTools quota override), the
 * write itself decides, and idbStore makes the engine count again after a refusal (its `write`).
 */
export async function checkRoom(data: readonly unknown[]): Promise<void> {
  const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number; quota?: number }> } } }).navigator?.storage
  if (typeof storage?.estimate !== 'function') return
  const bytes = data.reduce<number>((sum, item) => sum + largeBytes(item), 0)
  if (bytes === 0) return
  const { usage, quota } = await storage.estimate().catch(() => ({ usage: undefined, quota: undefined }))
  if (usage === undefined || quota === undefined || usage + bytes <= quota) return
  const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`
  throw new DOMException(
    `The job's data (${mb(bytes)} of binaries) does not fit in the storage left to this origin (${mb(usage)} of ${mb(quota)} used)`,
    'QuotaExceededError',
  )
}
