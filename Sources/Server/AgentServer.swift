import Agent
import Foundation
import Hummingbird
import JSON
import Logging
import NIOCore
import Scheduler
import ServiceLifecycle
import Store
import UnixSignals
import Synchronization

/// `agent-repl serve`: the scheduler over HTTP. The original service's API (`POST /tasks`,
/// `GET /tasks`, `GET /tasks/{id}`, `GET /stats`, `PUT /scheduler/strategy`) and ours
/// (`DELETE /tasks/{id}`, `PUT /scheduler/workers`, `POST /chat`, `GET /events`, `GET /healthz`), the
/// dashboard at `/`, the OpenAPI document and its page.
///
/// Every error is an RFC 9457 problem body naming the field. Bodies are read up to
/// ``ServerOptions/bodyLimit``. With a token set, every request but the pages, the document and the
/// health check carries it as a bearer token. No CORS headers: browsers keep other origins out.
/// A graceful shutdown (SIGTERM, or ``stop()``) ends the event streams, takes no new tasks, lets
/// running ones end within ``ServerOptions/drainGrace`` and cancels the rest.
public final class AgentServer: Sendable {
    public let service: TaskService
    public let events: EventHub
    public let options: ServerOptions
    private let sessions: any ChatSessionStore
    private let group = Mutex<ServiceGroup?>(nil)
    /// Conversations with a turn running (or being read back from the database).
    private let busySessions = Mutex<Set<String>>([])

    public init(service: TaskService, sessions: any ChatSessionStore, options: ServerOptions) {
        self.service = service
        self.sessions = sessions
        self.options = options
        self.events = EventHub(service: service)
    }

    /// Serves until a graceful shutdown (SIGTERM and SIGINT with `handlesSignals`, or ``stop()``) has
    /// drained the scheduler. `onListening` gets the port (the one chosen when ``ServerOptions/port`` is 0).
    public func run(handlesSignals: Bool = false, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        if let refusal = options.refusal { throw ServerError(refusal) }
        var logger = Logger(label: "agent-repl.serve")
        logger.logLevel = .warning
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        let drain = DrainService(server: self)
        // Services stop in reverse order: the drain first (the API still answers), then the server.
        let group = ServiceGroup(services: [app, drain], gracefulShutdownSignals: handlesSignals ? [.sigterm, .sigint] : [], cancellationSignals: [], logger: logger)
        self.group.withLock { $0 = group }
        // The MCP servers start in the background; the drain stops them.
        service.mcp?.start()
        do {
            try await group.run()
        } catch {
            await service.mcp?.stop()
            throw error
        }
    }

    /// Starts the graceful shutdown of a running server.
    public func stop() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    func drain() async {
        events.stop()
        if options.drainsScheduler { await service.drain(grace: options.drainGrace) }
    }

    // MARK: Routes

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: BearerTokenMiddleware(token: options.token))
        router.get("/") { _, _ in Self.page(DashboardPage.html) }
        router.get("/docs") { _, _ in Self.page(DocsPage.html) }
        // Made for each request: it names the tools served, and MCP servers' tools join while it runs.
        router.get("/openapi.json") { [service] _, _ in Self.json(OpenAPIDocument.make(catalog: service.catalog)) }
        router.get("/healthz") { [service, events] _, _ in
            Self.json(["status": service.isDraining ? "draining" : "ok", "event_clients": .int(Int64(events.clientCount))])
        }
        router.post("/tasks") { [self] request, _ in try await submitTask(request) }
        router.get("/tasks") { [self] request, _ in try listTasks(request) }
        router.get("/tasks/{id}") { [service] _, context in
            let id = try Self.taskID(context)
            guard let task = service.task(id) else { throw Self.unknownTask(id) }
            return Self.json(task)
        }
        router.delete("/tasks/{id}") { [service] _, context in
            let id = try Self.taskID(context)
            guard let task = await service.cancel(id) else { throw Self.unknownTask(id) }
            return Self.json(task)
        }
        router.get("/stats") { [service] _, _ in Self.json(service.stats()) }
        router.put("/scheduler/strategy") { [self] request, _ in try await putStrategy(request) }
        router.put("/scheduler/workers") { [self] request, _ in try await putWorkers(request) }
        router.post("/chat") { [self] request, _ in try await chat(request) }
        router.get("/events") { [events] _, _ in
            let frames = events.subscribe()
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    // A failed write (the client left) ends the loop; ending the iteration unsubscribes.
                    for await frame in frames {
                        try await writer.write(ByteBuffer(string: frame))
                    }
                    try await writer.finish(nil)
                })
        }
        return router
    }

    private func submitTask(_ request: Request) async throws -> Response {
        let body = try await Self.body(request, limit: options.bodyLimit)
        let parsed = try TaskRequest.parse(body, catalog: service.catalog)
        let id = try service.submit(parsed)
        return Self.json([
            "task_id": .string(id.description), "status": "queued",
            "message": .string("Task \(id) (\(parsed.taskType)) queued at priority \(parsed.priority)."),
        ])
    }

    private func listTasks(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        var limit = 10
        if let raw = query["limit"] {
            guard let value = Int(String(raw)), (0...Self.listLimit).contains(value) else {
                throw Problem(.unprocessableContent, "limit must be a whole number from 0 to \(Self.listLimit).", field: "limit")
            }
            limit = value
        }
        var state: TaskState?
        if let raw = query["state"].map(String.init) {
            guard let value = raw == "queued" ? .waiting : TaskState(rawValue: raw) else {
                let names = ["queued"] + TaskState.allCases.map(\.rawValue)
                throw Problem(.unprocessableContent, "state must be one of \(names.joined(separator: ", ")).", field: "state")
            }
            state = value
        }
        let tool = query["tool"].map(String.init)
        return Self.json(.array(service.tasks(limit: limit, state: state, tool: tool)))
    }

    private func putStrategy(_ request: Request) async throws -> Response {
        let object = try Problem.jsonObject(try await Self.body(request, limit: options.bodyLimit))
        guard let name = object["strategy"]?.stringValue else {
            throw Problem.invalid("/strategy", "strategy is required: one of \(Self.strategyNames).")
        }
        guard let strategy = Self.strategy(named: name) else {
            throw Problem.invalid("/strategy", "Unknown strategy \"\(name.prefix(40))\"; the strategies are \(Self.strategyNames).")
        }
        var slice: Duration?
        if let raw = object["time_slice"], raw != .null {
            guard let seconds = raw.numberValue, seconds > 0, seconds <= 3600 else {
                throw Problem.invalid("/time_slice", "time_slice must be a number of seconds above 0 and at most 3600.")
            }
            slice = .microseconds(Int64((seconds * 1_000_000).rounded()))
            if slice! < .milliseconds(1) { throw Problem.invalid("/time_slice", "time_slice must be at least 0.001 seconds.") }
        }
        service.setStrategy(strategy, timeSlice: slice)
        let configuration = service.scheduler.configuration
        return Self.json([
            "strategy": .string(configuration.strategy.rawValue), "time_slice": .double(configuration.baseQuantum.milliseconds / 1000),
            "message": .string("The scheduler now uses \(configuration.strategy.rawValue)."),
        ])
    }

    private func putWorkers(_ request: Request) async throws -> Response {
        let object = try Problem.jsonObject(try await Self.body(request, limit: options.bodyLimit))
        guard let workers = object["workers"]?.wholeNumber(in: 1...256) else {
            throw Problem.invalid("/workers", "workers must be a whole number from 1 to 256.")
        }
        service.setWorkers(workers)
        return Self.json(["workers": .int(Int64(service.scheduler.configuration.workers))])
    }

    // MARK: Chat

    private func chat(_ request: Request) async throws -> Response {
        let object = try Problem.jsonObject(try await Self.body(request, limit: options.bodyLimit))
        guard let message = object["message"]?.stringValue, !message.isEmpty, message.unicodeScalars.count <= TaskRequest.contentLimit else {
            throw Problem.invalid("/message", "message is required: a string of 1 to \(TaskRequest.contentLimit) characters.")
        }
        var sessionID: String?
        switch object["session"] {
        case nil, .null?: break
        case .string(let id)? where id.unicodeScalars.count <= ChatSessions.idLimit: sessionID = id
        default: throw Problem.invalid("/session", "session must be a string of at most \(ChatSessions.idLimit) characters that an earlier answer gave.")
        }
        if service.isDraining { throw Problem(.serviceUnavailable, "The server is shutting down.", retryAfter: 5) }
        // A known id is taken before its conversation is looked up: one read back from the database while
        // its turn still runs would miss that turn.
        if let sessionID { try reserve(sessionID) }
        let conversation: ChatConversation
        do {
            guard let found = try await sessions.conversation(sessionID) else {
                throw Problem(.notFound, "No conversation has the session \"\(sessionID ?? "")\".", field: "/session")
            }
            conversation = found
        } catch {
            if let sessionID { release(sessionID) }
            throw error
        }
        let id = conversation.id
        if sessionID == nil { try reserve(id) }
        let streams = request.headers[.accept]?.contains("text/event-stream") == true
        if !streams {
            defer { release(id) }
            do {
                let answer = try await runTurn(conversation, prompt: message)
                return Self.json(["session": .string(id), "answer": .string(answer)])
            } catch {
                throw Problem(.badGateway, "The turn failed: \(error)")
            }
        }
        let (frames, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(EventHub.clientBuffer))
        let turn = Task { [self] in
            do {
                let answer = try await runTurn(conversation, prompt: message) { event in
                    if let frame = Self.frame(event) { continuation.yield(frame) }
                }
                continuation.yield(EventHub.frame(event: "done", data: ["session": .string(id), "answer": .string(answer)]))
            } catch {
                continuation.yield(EventHub.frame(event: "error", data: ["session": .string(id), "detail": .string("\(error)")]))
            }
            release(id)
            continuation.finish()
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                // The client leaving stops the turn and its tools.
                do {
                    for await frame in frames { try await writer.write(ByteBuffer(string: frame)) }
                    try await writer.finish(nil)
                } catch {
                    turn.cancel()
                    throw error
                }
            })
    }

    /// Marks conversation `id` as having a turn running; a second turn of it waits for none, it is refused (409).
    private func reserve(_ id: String) throws(Problem) {
        guard busySessions.withLock({ $0.insert(id).inserted }) else {
            throw Problem(.conflict, "The conversation \(id) has a turn running; send the next message once it has answered.", field: "/session")
        }
    }

    private func release(_ id: String) {
        _ = busySessions.withLock { $0.remove(id) }
    }

    /// One turn of `conversation`, recorded (its start, events and end, with the messages it added) when
    /// the conversation has a recorder; the database's waits happen off the cooperative pool.
    private func runTurn(
        _ conversation: ChatConversation, prompt: String, events: @escaping @Sendable (TurnEvent) -> Void = { _ in }
    ) async throws -> String {
        let agent = conversation.agent
        let recording: TurnRecording? = if let recorder = conversation.recorder {
            await ChatArchive.offThePool { recorder.beginTurn(prompt: prompt, model: agent.modelName) }
        } else {
            nil
        }
        let earlier = agent.messages.count
        let result: Result<String, any Error>
        do {
            result = .success(try await agent.run(prompt: prompt) { event in
                recording?.observe(event)
                events(event)
            })
        } catch {
            result = .failure(error)
        }
        if let recording {
            let added = Array(agent.messages.dropFirst(earlier))
            await ChatArchive.offThePool { recording.finish(result, describeError: { "\($0)" }, messages: added) }
        }
        return try result.get()
    }

    private static func frame(_ event: TurnEvent) -> String? {
        switch event {
        case .text(let text): EventHub.frame(event: "text", data: ["text": .string(text)])
        case .toolStarted(let call, let taskID):
            EventHub.frame(event: "tool_started", data: ["name": .string(call.name), "task_id": taskID.map { .string(String($0)) } ?? .null])
        case .toolFinished(let call, let ok, let summary):
            EventHub.frame(event: "tool_finished", data: ["name": .string(call.name), "ok": .bool(ok), "summary": .string(summary)])
        case .notice, .toolCallsRequested, .modelCallEnded: nil
        }
    }

    // MARK: Helpers

    static let listLimit = 1000

    /// The original's names beside ours.
    static let strategyAliases: [String: Strategy] = [
        "priority_based": .priority, "shortest_job_first": .sjf, "round_robin": .roundRobin, "preemptive": .preemptive,
    ]
    static var strategyNames: String {
        (Strategy.allCases.map(\.rawValue) + strategyAliases.keys.sorted()).joined(separator: ", ")
    }

    static func strategy(named name: String) -> Strategy? {
        Strategy(rawValue: name) ?? strategyAliases[name]
    }

    static func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw Problem(.contentTooLarge, "The body is larger than \(limit) bytes.", field: "")
        }
    }

    static func taskID(_ context: BasicRequestContext) throws -> TaskID {
        let raw = context.parameters.get("id") ?? ""
        guard let value = UInt64(raw) else {
            throw Problem(.notFound, "No task has the id \"\(raw.prefix(40))\": ids are whole numbers.", field: "id")
        }
        return TaskID(rawValue: value)
    }

    static func unknownTask(_ id: TaskID) -> Problem {
        Problem(.notFound, "No task \(id) is known (it never existed, or ended long enough ago to be forgotten).", field: "id")
    }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func page(_ html: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

/// Why the server does not start.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Runs until the graceful shutdown, then drains before the HTTP server stops.
private struct DrainService: Service {
    let server: AgentServer

    func run() async throws {
        try? await gracefulShutdown()
        await server.drain()
    }
}
