#if canImport(Glibc)
import Glibc
#endif

/// A value behind glibc's adaptive mutex (`PTHREAD_MUTEX_ADAPTIVE_NP`): a waiter spins briefly, then
/// sleeps on a futex.
///
/// Used for the scheduler's state instead of `Synchronization.Mutex`, whose Linux slow path keeps
/// spinning while the holder (the submitting thread or a worker) is busy: on 2 cores the no-op benchmark
/// (docs/SCHEDULER.md, "Speed structures") spent about 4 µs of CPU per task with it and 2-3.5 µs with
/// this lock.
// @unchecked: `value` is read and written only inside `withLock`, under the mutex.
final class AdaptiveLock<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
