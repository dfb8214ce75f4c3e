import { describe, expect, it } from 'vitest'
import { Heap } from '../../src/runner/heap.js'

interface Item {
  priority: number
  seq: number
}

/** The dispatcher's order: higher priority first, then lower seq (insertion order). */
const before = (a: Item, b: Item): boolean => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq)
const compare = (a: Item, b: Item): number => b.priority - a.priority || a.seq - b.seq

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let t = seed >>> 0
  return () => {
    t = (t + 0x6d2b79f5) >>> 0
    let r = Math.imul(t ^ (t >>> 15), 1 | t)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

function drain<T>(heap: Heap<T>): T[] {
  const out: T[] = []
  while (heap.size > 0) out.push(heap.pop() as T)
  return out
}

describe('Heap', () => {
  it('an empty heap has size 0 and peeks and pops undefined', () => {
    const heap = new Heap<Item>(before)
    expect(heap.size).toBe(0)
    expect(heap.peek()).toBeUndefined()
    expect(heap.pop()).toBeUndefined()
    expect(heap.size).toBe(0)
  })

  it('pops higher priority first, and equal priorities in seq order', () => {
    const heap = new Heap<Item>(before)
    for (const item of [
      { priority: 0, seq: 1 },
      { priority: 5, seq: 2 },
      { priority: 0, seq: 3 },
      { priority: -1, seq: 4 },
      { priority: 5, seq: 5 },
    ]) {
      heap.push(item)
    }
    expect(heap.peek()).toEqual({ priority: 5, seq: 2 })
    expect(drain(heap).map((i) => i.seq)).toEqual([2, 5, 1, 3, 4])
  })

  it('pops in the same order as sorting, over many random inputs', () => {
    const random = prng(0xc0ffee)
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(random() * 200)
      const items: Item[] = Array.from({ length: n }, (_, i) => ({
        // few distinct priorities, so ties on priority are common and seq decides
        priority: Math.floor(random() * 5) - 2,
        seq: i + 1,
      }))
      // push in shuffled order
      const shuffled = [...items].sort(() => random() - 0.5)
      const heap = new Heap<Item>(before)
      for (const item of shuffled) heap.push(item)
      expect(heap.size).toBe(n)
      expect(drain(heap)).toEqual([...items].sort(compare))
    }
  })

  it('keeps its order when pushes and pops interleave', () => {
    const random = prng(42)
    const heap = new Heap<Item>(before)
    const model: Item[] = []
    let seq = 0
    for (let step = 0; step < 5000; step++) {
      if (model.length === 0 || random() < 0.6) {
        const item = { priority: Math.floor(random() * 10), seq: ++seq }
        heap.push(item)
        model.push(item)
      } else {
        model.sort(compare)
        const expected = model.shift()
        expect(heap.peek()).toBe(expected)
        expect(heap.pop()).toBe(expected)
      }
      expect(heap.size).toBe(model.length)
    }
  })

  it('clear() empties the heap', () => {
    const heap = new Heap<number>((a, b) => a < b)
    for (const n of [3, 1, 2]) heap.push(n)
    heap.clear()
    expect(heap.size).toBe(0)
    expect(heap.pop()).toBeUndefined()
    heap.push(9)
    expect(heap.pop()).toBe(9)
  })
})
