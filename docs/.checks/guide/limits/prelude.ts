import { geocode, zipFiles } from './helpers'
declare const thumbnail: (input: { url: string }) => Promise<Blob>
declare const queue: import('offthread').Queue<import('./tasks.worker').Tasks>
declare const q: string
declare const item: { id: string }
declare const url: string
