import Foundation
import Synchronization

/// Ctrl-C without killing the process, and a clean end on SIGTERM or SIGHUP.
///
/// The handlers only bump a counter and write the signal's number to a pipe (both async-signal-safe);
/// a watcher thread reads the pipe and acts outside the signal context: for SIGINT it cancels the
/// running turn, or, while the line editor waits in `readline`, re-sends SIGINT to the line editor's
/// thread so its `read` returns EINTR and the line is cleared (the kernel may have delivered the first
/// one to any thread that does not block it); for SIGTERM and SIGHUP it stops every tool and exits.
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

    /// Lets SIGINT reach the calling thread, the line editor's, and remembers it.
    static func registerLineEditorThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        editorThread.store(UInt(pthread_self()), ordering: .releasing)
    }

    /// Brackets the line editor's blocking `readline` call.
    static func setLineEditorReading(_ reading: Bool) {
        editorReading.store(reading, ordering: .releasing)
    }

    /// Installs the handlers (no SA_RESTART, so a blocked `read` returns EINTR) and starts the watcher.
    static func install(onInterrupt: @escaping @Sendable () -> Void, onTerminate: @escaping @Sendable (Int32) -> Void) {
        // Initialise the globals outside the handler.
        _ = interrupts.load(ordering: .relaxed)
        _ = editorReading.load(ordering: .relaxed)
        _ = editorThread.load(ordering: .relaxed)
        _ = relayPipe.write
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                let saved = errno
                if signal == SIGINT {
                    interrupts.wrappingAdd(1, ordering: .releasing)
                    // On the line editor's thread inside readline, EINTR already does the work.
                    if editorReading.load(ordering: .acquiring), UInt(pthread_self()) == editorThread.load(ordering: .acquiring) {
                        errno = saved
                        return
                    }
                }
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
                    if Int32(byte) != SIGINT {
                        onTerminate(Int32(byte))
                    } else if editorReading.load(ordering: .acquiring), let thread = pthread_t(exactly: editorThread.load(ordering: .acquiring)), thread != 0 {
                        pthread_kill(thread, SIGINT)
                    } else {
                        onInterrupt()
                    }
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
private let editorReading = Atomic<Bool>(false)
private let editorThread = Atomic<UInt>(0)
private let relayPipe: (read: Int32, write: Int32) = {
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    return (fds[0], fds[1])
}()
