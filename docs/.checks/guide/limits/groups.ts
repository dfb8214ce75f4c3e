import { createQueue } from 'offthread'
import type { Tasks } from './tasks.worker'
declare const worker: () => Worker
declare const photo: File
declare const albumId: number
declare const files: File[]
