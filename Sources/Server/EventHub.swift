import Foundation
import JSON
import Scheduler
import Synchronization

/// `GET /events`: every task transition and a stats tick, as Server-Sent Events, to any number of
/// clients.
///
/// While at least one client listens, one loop reads the scheduler's recent records every
/// ``tick`` and sends the transitions it has not sent yet (each record carries its transitions, so a
/// task that waited, ran and ended between two reads still shows all three), then the stats object.
/// The scheduler's hot path is untouched: nothing happens on it for listeners. Each client has a
/// bounded buffer (a slow one loses its oldest events, never the server's memory); a client that
/// disconnects is removed when its response's next write fails.
public final class EventHub: Sendable {
    /// One client's events, as SSE frames.
    public typealias Frames = AsyncStream<String>

    private struct State {
        var clients: [Int: Frames.Continuation] = [:]
        var nextClient = 0
        var poller: Task<Void, Never>?
        /// Transitions already sent, per task still among the records read.
        var sent: [TaskID: Int] = [:]
    }

    private let service: TaskService
    private let tick: Duration
    /// Records read per tick: tasks beyond these (more than this many new tasks in one tick) have
    /// their transitions skipped, their ends still counted in the stats.
    private let window: Int
    private let state = Mutex(State())

    public static let clientBuffer = 1024

    public init(service: TaskService, tick: Duration = .milliseconds(250), window: Int = 200) {
        self.service = service
        self.tick = tick
        self.window = window
    }

    /// Clients connected now.
    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// A new client's stream; it ends when the hub stops, and ending it unsubscribes.
    public func subscribe() -> Frames {
        let (stream, continuation) = Frames.makeStream(bufferingPolicy: .bufferingNewest(Self.clientBuffer))
        let id = state.withLock { state -> Int in
            let id = state.nextClient
            state.nextClient += 1
            state.clients[id] = continuation
            if state.poller == nil { state.poller = Task { [weak self] in await self?.poll() } }
            return id
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        continuation.yield(Self.frame(event: "stats", data: service.stats()))
        return stream
    }

    /// Ends every client's stream (the server is stopping).
    public func stop() {
        let (clients, poller) = state.withLock { state in
            defer { state.clients = [:]; state.poller = nil }
            return (Array(state.clients.values), state.poller)
        }
        poller?.cancel()
        for client in clients { client.finish() }
    }

    private func remove(_ id: Int) {
        let poller = state.withLock { state -> Task<Void, Never>? in
            state.clients[id] = nil
            guard state.clients.isEmpty else { return nil }
            defer { state.poller = nil; state.sent = [:] }
            return state.poller
        }
        poller?.cancel()
    }

    private func poll() async {
        while !Task.isCancelled {
            broadcast(frames())
            try? await Task.sleep(for: tick)
        }
    }

    private func broadcast(_ frames: [String]) {
        let clients = state.withLock { Array($0.clients.values) }
        for client in clients {
            for frame in frames { client.yield(frame) }
        }
    }

    /// The transitions not sent yet, oldest first, and one stats frame.
    func frames() -> [String] {
        let records = service.scheduler.records(limit: window)
        var events: [(at: Duration, id: TaskID, frame: String)] = []
        state.withLock { state in
            var sent: [TaskID: Int] = [:]
            for record in records {
                let transitions = record.transitions
                let already = state.sent[record.id] ?? 0
                for transition in transitions.dropFirst(already) {
                    let data: JSONValue = [
                        "id": .string(record.id.description), "name": .string(record.name), "state": .string(transition.state.rawValue),
                        "at_ms": .double(transition.at.milliseconds), "level": .int(Int64(record.level)),
                        "priority": .int(Int64(record.priority)),
                    ]
                    events.append((transition.at, record.id, Self.frame(event: "task", data: data)))
                }
                sent[record.id] = transitions.count
            }
            state.sent = sent
        }
        events.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        return events.map(\.frame) + [Self.frame(event: "stats", data: service.stats())]
    }

    static func frame(event: String, data: JSONValue) -> String {
        frame(event: event, json: data.jsonString)
    }

    /// `json` is one line (compact JSON has no line breaks).
    static func frame(event: String, json: String) -> String {
        "event: \(event)\ndata: \(json)\n\n"
    }
}
