import Foundation
import Synchronization

/// The kernel's name of the calling thread (Foundation's `Thread.current.name` is not it for a thread
/// named before it started).
public func currentThreadName() -> String {
    ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?").trimmingCharacters(in: .newlines)
}

/// Events and the threads they came on, from any thread.
public final class ThreadedLog<Event: Sendable>: Sendable {
    private let entries = Mutex<[(event: Event, thread: String)]>([])
    public init() {}
    public func record(_ event: Event) { entries.withLock { $0.append((event, currentThreadName())) } }
    public var events: [Event] { entries.withLock { $0.map(\.event) } }
    public var threads: Set<String> { entries.withLock { Set($0.map(\.thread)) } }
}
