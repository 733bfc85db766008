import Agent
import Foundation
import HTTP
import JSON
import LLM
import MCPTools
import Scheduler
import Server
import Store
import Tools

/// One `AgentServer` in this process on a free loopback port, and a client for it.
final class ServerHarness: Sendable {
    let server: AgentServer
    let sessions: ChatSessions
    let port: Int
    let token: String?
    private let running: Task<Void, any Error>

    /// The builtin `now` (a no-op) and `sleep` (a task that runs a while), and an exec tool that
    /// wants a confirmation.
    static var catalog: ToolCatalog {
        var tools = ["now", "sleep"].compactMap { BuiltinTools.declaration($0) }
        tools.append(ToolDeclaration(name: "careful", description: "asks first", parameters: ["type": "object"], runner: .exec(["true"]), confirm: true))
        return ToolCatalog(tools: tools)
    }

    private init(server: AgentServer, sessions: ChatSessions, port: Int, token: String?, running: Task<Void, any Error>) {
        self.server = server
        self.sessions = sessions
        self.port = port
        self.token = token
        self.running = running
    }

    static func start(
        options: ServerOptions = ServerOptions(), scheduler configuration: SchedulerConfiguration = SchedulerConfiguration(),
        model: any ChatModel = DemoModel(wordDelay: .zero), maxLiveTasks: Int = 1000, mcp: MCPServerPool? = nil,
        database: SessionStore? = nil, chatLimit: Int = 100
    ) async throws -> ServerHarness {
        var options = options
        options.port = 0
        let clock = ContinuousSchedulerClock()
        let service = TaskService(
            scheduler: ToolScheduler(configuration: configuration, clock: clock), clock: clock, catalog: catalog,
            runner: ToolRunner(environment: [:], fileRoot: FileManager.default.temporaryDirectory), mcp: mcp,
            model: model, modelName: "test-model", maxLiveTasks: maxLiveTasks)
        let archive = database.map {
            ChatArchive(store: $0, folder: "/served", api: "chat", scheduler: service.scheduler, warn: { _ in })
        }
        let sessions = ChatSessions(limit: chatLimit, archive: archive) { number in service.makeAgent(conversation: number) }
        let server = AgentServer(service: service, sessions: sessions, options: options)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let running = Task {
            defer { continuation.finish() }
            try await server.run { continuation.yield($0) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await running.value
            throw CocoaError(.fileReadUnknown)
        }
        return ServerHarness(server: server, sessions: sessions, port: port, token: options.token, running: running)
    }

    /// Graceful shutdown; returns once the server has drained and stopped.
    func stop() async throws {
        await server.stop()
        try await running.value
    }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: JSONValue? { try? JSONValue.parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func request(
        _ method: String, _ path: String, body: String? = nil, headers: [(name: String, value: String)] = [], authorized: Bool = true
    ) async throws -> Answer {
        try await request(method, path, data: body.map { Data($0.utf8) }, headers: headers, authorized: authorized)
    }

    func request(
        _ method: String, _ path: String, data: Data?, headers: [(name: String, value: String)] = [], authorized: Bool = true
    ) async throws -> Answer {
        var all = headers
        if data != nil { all.append(("Content-Type", "application/json")) }
        if authorized, let token { all.append(("Authorization", "Bearer \(token)")) }
        let response = try await CurlTransport().fetch(HTTPRequest(url: url(path), method: method, headers: all, body: data), limit: 8 << 20)
        return Answer(status: response.head.status, headers: response.head.headers, body: response.body)
    }

    /// Reads Server-Sent Events from `path` until `enough` says so (or a minute passes), then hangs up.
    /// Returns the events read, as (event, data).
    func events(
        _ path: String, method: String = "GET", body: String? = nil, until enough: @escaping @Sendable ([(String, JSONValue)]) -> Bool
    ) async throws -> [(String, JSONValue)] {
        var headers: [(name: String, value: String)] = [("Accept", "text/event-stream")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let stream = CurlTransport().send(HTTPRequest(url: url(path), method: method, headers: headers, body: body.map { Data($0.utf8) }))
        return try await withThrowingTaskGroup(of: [(String, JSONValue)]?.self) { group in
            group.addTask {
                var buffer = ""
                var events: [(String, JSONValue)] = []
                for try await part in stream {
                    guard case .body(let data) = part else { continue }
                    buffer += String(decoding: data, as: UTF8.self)
                    while let end = buffer.range(of: "\n\n") {
                        let block = buffer[..<end.lowerBound]
                        buffer = String(buffer[end.upperBound...])
                        var event = "message", payload = ""
                        for line in block.split(separator: "\n") {
                            if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                            if line.hasPrefix("data: ") { payload += line.dropFirst(6) }
                        }
                        events.append((event, (try? JSONValue.parse(payload)) ?? .null))
                    }
                    if enough(events) { return events }
                }
                return events
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let first else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no such events within a minute"]) }
            return first
        }
    }

    /// POST /tasks; the task's id.
    func submit(_ body: String) async throws -> String {
        let answer = try await request("POST", "/tasks", body: body)
        guard answer.status == 200, let id = answer.json?["task_id"]?.stringValue else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "POST /tasks: \(answer.status) \(answer.text)"])
        }
        return id
    }

    /// Polls GET /tasks/ID until the task is in a final state.
    func ended(_ id: String) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let task = try await request("GET", "/tasks/\(id)").json
            if let state = task?["state"]?.stringValue, TaskState(rawValue: state)?.isFinal == true { return task! }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "task \(id) did not end"])
    }
}
