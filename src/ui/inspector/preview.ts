/**
 * A safe, bounded text preview of any value a job holds (its input, its
 * result, a log line's meta): it never stringifies the whole of a value, so a
 * 100 MB ArrayBuffer shows as its type and byteLength, a string of a million
 * characters as its start and length, an array of a million items as its
 * first few. Cycles, depth and the total length are all bounded. A binary read
 * from the store as a {@link BinaryHead} (its first elements only) shows as the
 * binary itself would.
 */
import { BinaryHead } from '../../shared/binary.js'

/** How far a preview goes. */
export interface PreviewLimits {
  /** Characters of output, about (the end is cut with `…`). @defaultValue 4000 */
  budget?: number
  /** Nesting shown before `{…}` / `[…]`. @defaultValue 4 */
  depth?: number
  /** Items or keys shown per array, object, Map or Set. @defaultValue 20 */
  items?: number
  /** Characters shown of one string. @defaultValue 400 */
  string?: number
}

/** The elements shown of a typed array: all a preview reads of a stored one. */
export const TYPED_VALUES = 8

/** The preview of `value`: indented, like a console's, and bounded by `limits`. */
export function preview(value: unknown, limits: PreviewLimits = {}): string {
  const budget = limits.budget ?? 4000
  const state: State = {
    left: budget,
    depth: limits.depth ?? 4,
    items: limits.items ?? 20,
    string: limits.string ?? 400,
    ancestors: new Set(),
  }
  const text = describe(value, 0, state)
  return text.length > budget ? `${text.slice(0, budget)}…` : text
}

interface State {
  /** Characters the rest of the preview may still use. */
  left: number
  depth: number
  items: number
  string: number
  ancestors: Set<object>
}

/** Spends `text` from the budget; returns it. */
function spend(text: string, state: State): string {
  state.left -= text.length
  return text
}

function tagOf(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1)
}

function describe(value: unknown, level: number, state: State): string {
  switch (typeof value) {
    case 'string': {
      const shown = value.length > state.string ? value.slice(0, state.string) : value
      const more = value.length > shown.length ? `… (${value.length.toLocaleString()} characters)` : ''
      return spend(JSON.stringify(shown) + more, state)
    }
    case 'number':
    case 'boolean':
    case 'undefined':
      return spend(String(value), state)
    case 'bigint':
      return spend(`${value}n`, state)
    case 'symbol':
      return spend(value.toString(), state)
    case 'function':
      return spend(`[Function${value.name ? ` ${value.name}` : ''}]`, state)
    case 'object':
      if (value === null) return spend('null', state)
      return describeObject(value, level, state)
  }
}

function describeObject(value: object, level: number, state: State): string {
  const tag = tagOf(value)
  // Binary data: its type and size, never its bytes as text.
  if (tag === 'ArrayBuffer' || tag === 'SharedArrayBuffer')
    return spend(`${tag} { byteLength: ${(value as ArrayBuffer).byteLength.toLocaleString()} }`, state)
  if (ArrayBuffer.isView(value)) {
    if (tag === 'DataView') return spend(`DataView { byteLength: ${value.byteLength.toLocaleString()} }`, state)
    return spend(typedText(tag, value as unknown as ArrayLike<number | bigint>, value.byteLength), state)
  }
  if (value instanceof BinaryHead) {
    if (!value.head) return spend(`${value.type} { byteLength: ${value.byteLength.toLocaleString()} }`, state)
    return spend(typedText(value.type, value.head as unknown as ArrayLike<number | bigint>, value.byteLength), state)
  }
  if (tag === 'Blob' || tag === 'File') {
    const blob = value as Blob & { name?: string }
    const name = tag === 'File' ? ` ${JSON.stringify(String(blob.name).slice(0, state.string))}` : ''
    return spend(`${tag}${name} { type: ${JSON.stringify(blob.type || '')}, size: ${blob.size.toLocaleString()} }`, state)
  }
  if (tag === 'Date') {
    const time = (value as Date).getTime()
    return spend(Number.isNaN(time) ? 'Invalid Date' : (value as Date).toISOString(), state)
  }
  if (tag === 'RegExp') return spend(String(value).slice(0, state.string), state)
  if (value instanceof Error || tag === 'Error' || tag === 'DOMException') {
    const error = value as Error
    return spend(`${String(error.name).slice(0, 100)}: ${String(error.message).slice(0, state.string)}`, state)
  }
  if (state.ancestors.has(value)) return spend('[Circular]', state)
  if (level >= state.depth) return spend(Array.isArray(value) ? '[…]' : tag === 'Map' || tag === 'Set' ? `${tag} {…}` : '{…}', state)

  state.ancestors.add(value)
  try {
    if (Array.isArray(value)) {
      const items = list(value.length, (i) => describe(value[i], level + 1, state), state)
      return wrap('', '[', ']', items, value.length, level, state)
    }
    if (tag === 'Map') {
      const map = value as Map<unknown, unknown>
      const entries = map.entries()
      const items = list(
        map.size,
        () => {
          const [k, v] = entries.next().value as [unknown, unknown]
          return `${describe(k, level + 1, state)} => ${describe(v, level + 1, state)}`
        },
        state,
      )
      return wrap(`Map(${map.size.toLocaleString()}) `, '{', '}', items, map.size, level, state)
    }
    if (tag === 'Set') {
      const set = value as Set<unknown>
      const values = set.values()
      const items = list(set.size, () => describe(values.next().value, level + 1, state), state)
      return wrap(`Set(${set.size.toLocaleString()}) `, '{', '}', items, set.size, level, state)
    }
    // Any other object: its own enumerable keys, the first few (a for-in stops early; Object.keys would list all).
    const items: string[] = []
    let more = false
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue
      if (items.length >= state.items || state.left <= 0) {
        more = true
        break
      }
      const shownKey = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key.slice(0, 100))
      items.push(`${spend(shownKey, state)}: ${describe((value as Record<string, unknown>)[key], level + 1, state)}`)
    }
    const proto = Object.getPrototypeOf(value) as object | null
    const plain = proto === null || proto === Object.prototype
    if (!plain && items.length === 0) return spend(`[object ${tag}]`, state)
    const prefix = plain ? '' : `${tag} `
    return wrap(prefix, '{', '}', more ? [...items, '…'] : items, more ? items.length + 1 : items.length, level, state)
  } finally {
    state.ancestors.delete(value)
  }
}

/** A typed array of `byteLength` bytes whose first elements are `values` (all of it, or a {@link BinaryHead}'s head). */
function typedText(tag: string, values: ArrayLike<number | bigint> & { BYTES_PER_ELEMENT?: number }, byteLength: number): string {
  const length = byteLength / (values.BYTES_PER_ELEMENT ?? 1)
  const first = Array.from({ length: Math.min(values.length, TYPED_VALUES) }, (_, i) => String(values[i]))
  const more = length > first.length ? ', …' : ''
  return `${tag}(${length.toLocaleString()}) { byteLength: ${byteLength.toLocaleString()} } [${first.join(', ')}${more}]`
}

/** The first items of a collection of `size`, within the item count and the budget; then `… n more`. */
function list(size: number, item: (i: number) => string, state: State): string[] {
  const items: string[] = []
  for (let i = 0; i < size; i++) {
    if (items.length >= state.items || state.left <= 0) {
      items.push(spend(`… ${(size - i).toLocaleString()} more`, state))
      break
    }
    items.push(item(i))
  }
  return items
}

/** `prefix{ a, b }` on one line when short, else one item a line, indented (the items have spent their own length). */
function wrap(prefix: string, open: string, close: string, items: string[], size: number, level: number, state: State): string {
  if (size === 0) return spend(`${prefix}${open}${close}`, state)
  const inline = `${prefix}${open} ${items.join(', ')} ${close}`
  if (inline.length <= 72 && !items.some((item) => item.includes('\n'))) {
    state.left -= prefix.length + 4 + 2 * items.length
    return inline
  }
  const indent = '  '.repeat(level + 1)
  state.left -= prefix.length + 4 + (indent.length + 2) * items.length
  return `${prefix}${open}\n${items.map((item) => indent + item).join(',\n')}\n${'  '.repeat(level)}${close}`
}
