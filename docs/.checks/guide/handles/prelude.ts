import { render } from './helpers'
declare const queue: import('offthread').Queue<import('./tasks.worker').Tasks>
declare const image: Uint8Array<ArrayBuffer>
declare const id: string
declare const bar: HTMLProgressElement
