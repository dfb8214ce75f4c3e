// Helpers the guides' examples call and do not define (declared only: the examples are type-checked, not run).
import type { TaskContext } from 'offthread/worker'

export declare function scale(bitmap: ImageBitmap, width: number): Promise<Blob>
export declare function countPrimes(limit: number, ctx: TaskContext<unknown>): number
export declare function initWasm(): Promise<WebAssembly.Instance>
export declare function zipFiles(files: File[]): Promise<Blob>
export declare function geocode(address: string): Promise<{ lat: number; lon: number }>
export declare function fetchRows(month: string): Promise<string[][]>
export declare function toCsv(rows: string[][]): string
export declare function upload(data: string | Blob, by?: string): Promise<string>
export declare function sendMail(to: string, template: string): Promise<void>
export declare function render(value: unknown): void
export declare function showBanner(message: string): void
export declare function exportPdf(documentId: string): Promise<Blob>
