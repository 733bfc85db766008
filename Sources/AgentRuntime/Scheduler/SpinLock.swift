#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The driver's lock: a test-and-test-and-set spin lock that yields the thread while it waits.
///
/// Why not `Synchronization.Mutex`: on Linux (Swift 6.3) it is a priority-inheritance futex, and every
/// contended acquire goes through the kernel (`FUTEX_LOCK_PI`); the submitting thread and the threads
/// finishing bodies contend on every task, and a profile showed ~45% of the time in `_lockSlow`. The
/// driver's critical sections are a few microseconds of pure computation (one state-machine event),
/// so a waiter that spins briefly and then yields its core gets the lock sooner and cheaper. Holders
/// never block, sleep or call back into the scheduler while holding it.
final class SpinLock<Value>: @unchecked Sendable {
    private let locked = Atomic<Bool>(false)
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock()
        defer { locked.store(false, ordering: .releasing) }
        return try body(&value)
    }

    private func lock() {
        var attempts = 0
        while true {
            if !locked.load(ordering: .relaxed),
               locked.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                return
            }
            attempts += 1
            // Spin a little (the holder is usually running on the other core), then give the core
            // away so a descheduled holder can finish.
            if attempts > 4000 { sched_yield() }
        }
    }
}
