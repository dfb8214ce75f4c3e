import { countPrimes, initWasm, scale } from './helpers'
declare function resize(input: { width: number }): Promise<Blob>
declare function encode(image: Blob): Promise<Blob>
