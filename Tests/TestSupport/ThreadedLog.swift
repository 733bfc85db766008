import Foundation
import Synchronization

/// The calling thread's kernel id, as "PID/task/TID" (`/proc/thread-self`).
public func currentThreadID() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? "?"
}

/// Things and the threads they came on, from any thread.
public final class ThreadedLog<Event: Sendable>: Sendable {
    private let entries = Mutex<[(event: Event, thread: String)]>([])
    public init() {}
    public func record(_ event: Event) { entries.withLock { $0.append((event, currentThreadID())) } }
    public var events: [Event] { entries.withLock { $0.map(\.event) } }
    public var threads: Set<String> { entries.withLock { Set($0.map(\.thread)) } }
}
