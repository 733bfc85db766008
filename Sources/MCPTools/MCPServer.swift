import Foundation
import HTTP
import JSON
import LLM
import MCP
import Synchronization
import Tools

/// One MCP server of the session: its process or URL, the SDK's client over our transport, its tools,
/// and what `/mcp` shows (state, counts, the server's own name and version).
///
/// A stdio server that exits, or an HTTP server whose connection is lost (refused, reset, its GET stream
/// ending with an error), is started or reconnected again after 1 s, 2 s, 4 s ... up to 60 s; calls in
/// flight get a failed result naming the failure. `notifications/tools/list_changed` lists the tools
/// again (over HTTP it arrives on the GET stream).
public final class MCPServer: Sendable {
    public enum State: Sendable, Equatable, CustomStringConvertible {
        case starting
        case ready
        case restarting(after: String)
        case failed(String)
        case stopped

        public var description: String {
            switch self {
            case .starting: "starting"
            case .ready: "ready"
            case .restarting(let reason): "restarting (\(reason))"
            case .failed(let reason): "failed: \(reason)"
            case .stopped: "stopped"
            }
        }
    }

    /// What `/mcp` shows of a server.
    public struct Status: Sendable, Equatable {
        public var name: String
        public var state: State
        public var tools: Int
        public var calls: Int
        public var errors: Int
        public var restarts: Int
        /// The server's own `serverInfo`.
        public var serverName: String?
        public var serverVersion: String?
    }

    private struct Connection: Sendable {
        var client: Client
        var process: ServerProcess?
        var generation: Int
    }

    private struct Store {
        var state = State.starting
        var connection: Connection?
        var tools: [ToolDeclaration] = []
        var calls = 0, errors = 0, restarts = 0
        var serverName: String?, serverVersion: String?
        var generation = 0
        var stopped = false
        var progress: [String: @Sendable () -> Void] = [:]
        var readyWaiters: [CheckedContinuation<Void, Never>] = []
        var toolsChanged: (@Sendable () -> Void)?
    }

    public let declaration: MCPServerDeclaration
    private let environment: [String: String]
    private let http: any HTTPTransport
    private let store = Mutex(Store())
    /// Delay before the n-th restart in a row (1 s, 2 s, ... 60 s); tests shorten it.
    private let backoff: @Sendable (Int) -> Duration
    /// How long starting may take, up to the tools listed.
    private let startTimeout: Duration
    /// Starts in a row that may fail before the server counts as failed.
    private let startAttempts: Int

    public init(
        _ declaration: MCPServerDeclaration, environment: [String: String], http: any HTTPTransport = CurlTransport(),
        backoff: @escaping @Sendable (Int) -> Duration = MCPServer.standardBackoff, startTimeout: Duration = .seconds(30),
        startAttempts: Int = 8
    ) {
        self.startAttempts = startAttempts
        self.declaration = declaration
        self.environment = environment
        self.http = http
        self.backoff = backoff
        self.startTimeout = startTimeout
    }

    /// 1 s, 2 s, 4 s, ... capped at 60 s.
    public static func standardBackoff(_ attempt: Int) -> Duration {
        .seconds(min(60, 1 << min(max(attempt - 1, 0), 6)))
    }

    public var status: Status {
        store.withLock { s in
            Status(name: declaration.name, state: s.state, tools: s.tools.count, calls: s.calls, errors: s.errors, restarts: s.restarts,
                   serverName: s.serverName, serverVersion: s.serverVersion)
        }
    }

    /// Its tools as the model sees them (those `include`/`exclude` keep); empty until it is ready.
    public var tools: [ToolDeclaration] { store.withLock { $0.tools } }

    /// Called after the tools changed (first listing, list_changed, restart).
    public func onToolsChanged(_ handler: @escaping @Sendable () -> Void) {
        store.withLock { $0.toolsChanged = handler }
    }

    // MARK: Life

    /// Starts it in the background; ``waitUntilSettled()`` waits until it is ready or failed.
    public func start() {
        Task { await connect(attempt: 0) }
    }

    /// Waits until the server is ready, failed, or stopped (not while it starts or restarts).
    public func waitUntilSettled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let settled = store.withLock { s -> Bool in
                switch s.state {
                case .ready, .failed, .stopped: return true
                case .starting, .restarting:
                    s.readyWaiters.append(continuation)
                    return false
                }
            }
            if settled { continuation.resume() }
        }
    }

    /// Stops it for good: its process group is killed, calls in flight fail.
    public func stop() async {
        let connection = store.withLock { s -> Connection? in
            s.stopped = true
            defer { s.connection = nil }
            return s.connection
        }
        if let connection { await connection.client.disconnect() }
        settle(.stopped)
    }

    private func settle(_ state: State) {
        let waiters = store.withLock { s -> [CheckedContinuation<Void, Never>] in
            if case .stopped = s.state {} else { s.state = s.stopped ? .stopped : state }
            defer { s.readyWaiters = [] }
            return s.readyWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func connect(attempt: Int) async {
        let generation = store.withLock { s -> Int? in
            guard !s.stopped else { return nil }
            s.generation += 1
            return s.generation
        }
        guard let generation else { return }
        let client = Client(name: "agent-repl", version: "1")
        var process: ServerProcess?
        var httpTransport: StreamableHTTPTransport?
        do {
            let transport: any Transport
            switch declaration.transport {
            case .stdio(let argv, let env, let cwd):
                let stdio = StdioServerTransport()
                let started = try ServerProcess.start(
                    argv: argv, baseEnvironment: environment, passEnv: declaration.passEnv, env: env, workingDirectory: cwd,
                    output: { stdio.received($0) },
                    exited: { [weak self] exit in
                        let reason = stdio.stopReason.map { "\($0); it was stopped" } ?? "the server \(exit)"
                        stdio.ended(reason)
                        self?.exited(generation: generation, reason: reason)
                    })
                process = started
                stdio.attach(started)
                transport = stdio
            case .http(let url, let headers):
                let streamable = StreamableHTTPTransport(url: url, headers: headers, http: http) { [weak self] reason in
                    self?.exited(generation: generation, reason: reason)
                }
                httpTransport = streamable
                transport = streamable
            }
            store.withLock { $0.connection = Connection(client: client, process: process, generation: generation) }
            await client.onNotification(ProgressNotification.self) { [weak self] message in
                guard case .string(let token) = message.params.progressToken else { return }
                self?.store.withLock { $0.progress[token] }?()
            }
            await client.onNotification(ToolListChangedNotification.self) { [weak self] _ in
                guard let self else { return }
                Task { try? await self.listTools(client) }
            }
            let info: Initialize.Result
            let eventStream = httpTransport
            do {
                info = try await withDeadline(startTimeout) {
                    let info = try await client.connect(transport: transport)
                    await eventStream?.openEventStream()
                    try await self.listTools(client)
                    return info
                }
            } catch is CancellationError where !Task.isCancelled {
                throw MCPTransportError("the server did not answer 'initialize' and 'tools/list' within \(startTimeout)")
            }
            store.withLock {
                $0.serverName = String(info.serverInfo.name.prefix(200))
                $0.serverVersion = String(info.serverInfo.version.prefix(100))
            }
            store.withLock { $0.state = .ready }
            settle(.ready)
        } catch {
            process?.stop()
            await client.disconnect()
            let reason = store.withLock { s -> String in
                if case .restarting(let why) = s.state { return why }
                return "\(error)"
            }
            // A stdio server that cannot start yet (or died at once) gets its backoff too, up to
            // `startAttempts` in a row; an HTTP server that was ready is tried again until it answers
            // (it is started by someone else, and may take a while), one that never was fails at once.
            let retry = process != nil ? attempt + 1 < startAttempts : httpTransport != nil && attempt > 0
            if retry, !store.withLock({ $0.stopped }) {
                await restart(after: reason, attempt: attempt + 1)
            } else {
                settle(.failed(String(reason.prefix(300))))
            }
        }
    }

    /// Lists the server's tools (all pages, at most ``MCPLimits/maxTools``) into the catalog.
    private func listTools(_ client: Client) async throws {
        var listed: [MCP.Tool] = []
        var cursor: String?
        repeat {
            let page = try await client.listTools(cursor: cursor)
            listed += page.tools
            cursor = page.nextCursor
        } while cursor != nil && listed.count < MCPLimits.maxTools
        var tools: [ToolDeclaration] = []
        for tool in listed.prefix(MCPLimits.maxTools) where declaration.offers(tool.name) {
            guard tool.name.utf8.count <= 128 else { continue }
            var schema = (try? JSONValue.from(tool.inputSchema)) ?? ["type": "object"]
            if !SchemaValidator.schemaProblems(schema).isEmpty { schema = ["type": "object"] }
            tools.append(declaration.tool(named: tool.name, description: String((tool.description ?? "").prefix(4096)), parameters: schema))
        }
        let handler = store.withLock { s in
            s.tools = tools
            return s.toolsChanged
        }
        handler?()
    }

    /// The process of `generation` exited, or its HTTP connection was lost. While it was starting, the
    /// failed start restarts it.
    private func exited(generation: Int, reason: String) {
        let (connection, wasReady) = store.withLock { s -> (Connection?, Bool) in
            guard s.generation == generation, !s.stopped else { return (nil, false) }
            let wasReady = s.state == .ready
            s.state = .restarting(after: reason)
            s.tools = []
            defer { s.connection = nil }
            return (s.connection, wasReady)
        }
        let handler = store.withLock { $0.toolsChanged }
        handler?()
        guard let connection else { return }
        Task {
            // Calls in flight end now: the client fails every pending request.
            await connection.client.disconnect()
            if wasReady { await restart(after: reason, attempt: 1) }
        }
    }

    private func restart(after reason: String, attempt: Int) async {
        store.withLock { s in
            s.restarts += 1
            if !s.stopped { s.state = .restarting(after: reason) }
        }
        try? await Task.sleep(for: backoff(attempt))
        await connect(attempt: attempt)
    }

    // MARK: Calls

    /// Calls one of its tools. Cancelling the calling task sends `notifications/cancelled`.
    func call(_ tool: String, arguments: JSONValue, progress: @escaping @Sendable () -> Void) async -> ToolResult {
        let (connection, state) = store.withLock { s in
            s.calls += 1
            return (s.connection, s.state)
        }
        guard let connection, state == .ready else {
            return failed("MCP server '\(declaration.name)' is not ready (\(state))")
        }
        let token = UUID().uuidString
        store.withLock { $0.progress[token] = progress }
        defer { store.withLock { _ = $0.progress.removeValue(forKey: token) } }
        let meta = Metadata(progressToken: .string(token))
        let request = CallTool.request(.init(name: tool, arguments: arguments.objectValue.flatMap { try? JSONValue.object($0).mcpValue().objectValue }, meta: meta))
        let context: RequestContext<CallTool.Result>
        do {
            context = try await connection.client.send(request)
        } catch {
            return failed("cannot call '\(tool)' on MCP server '\(declaration.name)': \(error)")
        }
        return await withTaskCancellationHandler {
            do {
                let result = try await context.value
                let toolResult = Self.result(result)
                if !toolResult.ok { store.withLock { $0.errors += 1 } }
                return toolResult
            } catch {
                if Task.isCancelled { return .failure("the tool was cancelled", outcome: .cancelled) }
                let why = store.withLock { s -> String? in
                    if case .restarting(let reason) = s.state { return reason }
                    return nil
                }
                return failed(why.map { "MCP server '\(declaration.name)' crashed during the call: \($0)" }
                    ?? "MCP server '\(declaration.name)' failed the call: \(error)")
            }
        } onCancel: {
            Task { try? await connection.client.cancelRequest(context.requestID, reason: "cancelled by the user or its timeout") }
        }
    }

    private func failed(_ message: String) -> ToolResult {
        store.withLock { $0.errors += 1 }
        return .failure(message)
    }

    /// Text content becomes the output; images, audio and resources are summarised by type and size.
    static func result(_ result: CallTool.Result) -> ToolResult {
        var parts: [String] = []
        for content in result.content {
            switch content {
            case .text(let text, _, _): parts.append(text)
            case .image(let data, let mimeType, _, _): parts.append("[image \(mimeType.prefix(100)), \(data.utf8.count * 3 / 4) bytes]")
            case .audio(let data, let mimeType, _, _): parts.append("[audio \(mimeType.prefix(100)), \(data.utf8.count * 3 / 4) bytes]")
            case .resource(let resource, _, _):
                let size = resource.text?.utf8.count ?? (resource.blob?.utf8.count ?? 0) * 3 / 4
                parts.append("[resource \(resource.uri.prefix(200)) \(resource.mimeType ?? "?"), \(size) bytes]")
            case .resourceLink(let uri, let name, _, _, let mimeType, _):
                parts.append("[resource link \(name.prefix(100)) \(uri.prefix(200)) \(mimeType ?? "")]")
            }
        }
        var text = parts.joined(separator: "\n")
        if text.utf8.count > MCPLimits.maxResultBytes {
            text = String(decoding: text.utf8.prefix(MCPLimits.maxResultBytes), as: UTF8.self) + "\n[output cut at \(MCPLimits.maxResultBytes) bytes]"
        }
        if result.isError == true { return .failure(text.isEmpty ? "the MCP tool reported an error" : text) }
        return ToolResult(outcome: .success, output: text)
    }
}

extension JSONValue {
    /// The SDK's value for this one (through its JSON text).
    func mcpValue() throws -> MCP.Value {
        try JSONDecoder().decode(MCP.Value.self, from: Data(jsonString.utf8))
    }

    /// This project's value for one of the SDK's.
    static func from(_ value: MCP.Value) throws -> JSONValue {
        try JSONParser.value(Array(JSONEncoder().encode(value)))
    }
}

extension Value {
    var objectValue: [String: Value]? {
        if case .object(let members) = self { members } else { nil }
    }
}
