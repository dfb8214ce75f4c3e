import { render } from './helpers'
declare const queue: import('offthread').Queue<import('./tasks.worker').Tasks>
declare const id: string
declare const signal: AbortSignal
const job = await queue.add('primes', 1_000_000)
