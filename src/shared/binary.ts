/**
 * Large binary data kept as a `Blob` while stored. Structured-cloning a big
 * `ArrayBuffer` into IndexedDB copies it on the main thread in one go (100 MB:
 * a 220 ms long task in Chromium), and so does `new Blob([buffer])`; a Blob
 * built from 1 MB slices with a turn for the page between them costs the same
 * copy spread thin, and IndexedDB stores a Blob out of line, at once. The
 * job's data is stored in that form and given back in its own: the worker
 * reads the bytes back (off the main thread) before the handler runs, and a
 * page asking for the data (`handle.data()`, `list({ data: true })`) reads them
 * back asynchronously, which is no long task either.
 *
 * Large means ≥ `LARGE_BINARY` (queue/large-data.ts, which stores them) bytes: the data itself, or a property of
 * a plain object, or an item of an array, that is an `ArrayBuffer` or a view
 * on one (typed arrays, `DataView`).
 */

/** The key marking a stored binary. */
export const TAG = '@@offthread/binary'

export type BinaryType =
  | 'ArrayBuffer'
  | 'DataView'
  | 'Int8Array'
  | 'Uint8Array'
  | 'Uint8ClampedArray'
  | 'Int16Array'
  | 'Uint16Array'
  | 'Int32Array'
  | 'Uint32Array'
  | 'Float32Array'
  | 'Float64Array'
  | 'BigInt64Array'
  | 'BigUint64Array'

/** A binary as stored: its bytes in a Blob, and what to give back. */
export interface StoredBinary {
  [TAG]: BinaryType
  blob: Blob
}

const VIEWS: Record<Exclude<BinaryType, 'ArrayBuffer'>, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  DataView,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
}

export function binaryType(value: unknown): BinaryType | undefined {
  if (value instanceof ArrayBuffer) return 'ArrayBuffer'
  if (!ArrayBuffer.isView(value)) return undefined
  const name = Object.prototype.toString.call(value).slice(8, -1)
  return name in VIEWS ? (name as BinaryType) : undefined
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function isStored(value: unknown): value is StoredBinary {
  return typeof value === 'object' && value !== null && TAG in value && (value as { blob?: unknown }).blob instanceof Blob
}

async function restore(value: StoredBinary): Promise<ArrayBuffer | ArrayBufferView> {
  const buffer = await value.blob.arrayBuffer()
  const type = value[TAG]
  return type === 'ArrayBuffer' ? buffer : new VIEWS[type](buffer)
}

/**
 * Whether `test` holds for `data`, or for a property of a plain object or an item of an
 * array one level in. Never throws: hostile data (a revoked Proxy) gives false, and the
 * store's clone fails on it with a JobDataError.
 */
export function someInData(data: unknown, test: (value: unknown) => boolean): boolean {
  try {
    if (test(data)) return true
    if (Array.isArray(data)) return data.some(test)
    if (isPlainObject(data)) return Object.values(data).some(test)
    return false
  } catch {
    return false
  }
}

/** `data` with `map` applied where `test` holds (the data itself, or one level in); the rest as it is. */
export async function mapInData<T>(data: unknown, test: (value: unknown) => value is T, map: (value: T) => Promise<unknown>): Promise<unknown> {
  if (test(data)) return map(data)
  if (Array.isArray(data)) return Promise.all((data as unknown[]).map((item) => (test(item) ? map(item) : item)))
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(data as Record<string, unknown>)) out[key] = test(item) ? await map(item) : item
  return out
}

/** Whether `data` (as read from a store) holds binaries in their stored form. */
export function hasStoredBinary(data: unknown): boolean {
  return someInData(data, isStored)
}

/** `data` as it was added: each stored binary read back into its own type (asynchronously: no long task). */
export async function fromStored(data: unknown): Promise<unknown> {
  return hasStoredBinary(data) ? mapInData(data, isStored, restore) : data
}

/**
 * What a preview reads of a stored binary: its type, its size, and its first elements,
 * never the rest of its bytes (a Blob is sliced before it is read).
 */
export class BinaryHead {
  /** The binary's type. */
  readonly type: BinaryType
  /** Its whole size, in bytes. */
  readonly byteLength: number
  /** Its first elements, of its type (undefined for an `ArrayBuffer` or a `DataView`, which have no elements). */
  readonly head: ArrayBufferView | undefined

  constructor(type: BinaryType, byteLength: number, head: ArrayBufferView | undefined) {
    this.type = type
    this.byteLength = byteLength
    this.head = head
  }
}

async function readHead(value: StoredBinary, items: number): Promise<BinaryHead> {
  const type = value[TAG]
  const { size } = value.blob
  if (type === 'ArrayBuffer' || type === 'DataView') return new BinaryHead(type, size, undefined)
  const View = VIEWS[type] as unknown as { new (buffer: ArrayBuffer): ArrayBufferView; BYTES_PER_ELEMENT: number }
  const bytes = Math.min(size, Math.max(0, Math.floor(items)) * View.BYTES_PER_ELEMENT)
  return new BinaryHead(type, size, new View(await value.blob.slice(0, bytes).arrayBuffer()))
}

/**
 * `data` (as read from a store) for a preview: each stored binary as a {@link BinaryHead}
 * of its first `items` elements, read without the rest of its bytes; the rest as it is.
 */
export async function headOfStored(data: unknown, items: number): Promise<unknown> {
  return hasStoredBinary(data) ? mapInData(data, isStored, (value) => readHead(value, items)) : data
}
