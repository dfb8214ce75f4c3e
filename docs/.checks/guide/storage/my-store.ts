import type { Store } from 'offthread/store'
export declare function myStore(): Store
