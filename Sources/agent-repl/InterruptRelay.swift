import Foundation
import Synchronization

/// Ctrl-C without killing the process.
///
/// SIGINT is blocked in every thread but the line editor's, so at the prompt it interrupts libedit's
/// `read` (EINTR: the line is cleared) and during a turn it lands in the same handler. The handler only
/// bumps a counter and writes one byte to a pipe (both async-signal-safe); a watcher thread reads the pipe
/// and calls the current interrupt action (cancel the running turn) outside the signal context.
enum InterruptRelay {
    /// How many Ctrl-Cs have arrived.
    static var count: Int { interruptCount.load(ordering: .acquiring) }

    /// Blocks SIGINT in the calling thread and the threads it starts later. Call first thing in `main`.
    static func blockInCurrentThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Lets SIGINT reach the calling thread: the line editor's.
    static func unblockInCurrentThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Installs the handler (no SA_RESTART, so a blocked `read` returns EINTR) and starts the watcher.
    static func install(onInterrupt: @escaping @Sendable () -> Void) {
        _ = interruptCount.load(ordering: .relaxed)  // initialise the globals outside the handler
        let writeEnd = interruptPipe.write
        _ = writeEnd
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            let saved = errno
            interruptCount.wrappingAdd(1, ordering: .releasing)
            var byte: UInt8 = 1
            _ = write(interruptPipe.write, &byte, 1)
            errno = saved
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        let watcher = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(interruptPipe.read, &byte, 1)
                if n == 1 { onInterrupt() } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
        watcher.name = "interrupt-watcher"
        watcher.start()
    }
}

private let interruptCount = Atomic<Int>(0)
private let interruptPipe: (read: Int32, write: Int32) = {
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    return (fds[0], fds[1])
}()
