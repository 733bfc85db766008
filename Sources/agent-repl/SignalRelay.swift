import Foundation
import Synchronization

/// Ctrl-C without killing the process, and a clean end on SIGTERM or SIGHUP.
///
/// SIGINT is blocked in every thread but the line editor's, so at the prompt it interrupts libedit's
/// `read` (EINTR: the line is cleared) and during a turn it lands in the same handler. The handlers
/// only bump a counter and write the signal's number to a pipe (both async-signal-safe); a watcher
/// thread reads the pipe and runs the matching action outside the signal context: cancel the running
/// turn for SIGINT; stop every tool and exit for SIGTERM and SIGHUP.
enum SignalRelay {
    /// How many Ctrl-Cs have arrived.
    static var interruptCount: Int { interrupts.load(ordering: .acquiring) }

    /// Makes the calling thread's mask "SIGINT blocked, nothing else" (a parent may have left more
    /// blocked, e.g. SIGTERM when started from a thread pool); threads started later inherit it.
    /// Call first thing in `main`.
    static func setUpMainThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_SETMASK, &set, nil)
    }

    /// Lets SIGINT reach the calling thread: the line editor's.
    static func unblockInterruptInCurrentThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Installs the handlers (no SA_RESTART, so a blocked `read` returns EINTR) and starts the watcher.
    static func install(onInterrupt: @escaping @Sendable () -> Void, onTerminate: @escaping @Sendable (Int32) -> Void) {
        _ = interrupts.load(ordering: .relaxed)  // initialise the globals outside the handler
        _ = relayPipe.write
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                let saved = errno
                if signal == SIGINT { interrupts.wrappingAdd(1, ordering: .releasing) }
                var byte = UInt8(truncatingIfNeeded: signal)
                _ = write(relayPipe.write, &byte, 1)
                errno = saved
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
        let watcher = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(relayPipe.read, &byte, 1)
                if n == 1 {
                    if Int32(byte) == SIGINT { onInterrupt() } else { onTerminate(Int32(byte)) }
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        watcher.name = "signal-watcher"
        watcher.start()
    }
}

private let interrupts = Atomic<Int>(0)
private let relayPipe: (read: Int32, write: Int32) = {
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    return (fds[0], fds[1])
}()
