/**
 * What a call into the runner gives when the runner lost its place while the call
 * was under way (`Dispatcher.abandon`): its writes will never land, and the caller
 * redoes the call as a follower. Its own module: the dispatcher, its loop and the
 * queue's tabs (queue/remote.ts) all test for it.
 */
export const LOST: unique symbol = Symbol('offthread.lost')
