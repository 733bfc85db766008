import Foundation
import HTTP
import LLM
import Logging
import MCP
import Synchronization

/// The SDK's `Transport` for Streamable HTTP over the project's one libcurl transport.
///
/// Replaces the SDK's `HTTPClientTransport`, which on Linux reads each answer whole with URLSession
/// (no EventSource there): an answer sent as server-sent events reaches it as one blob, and progress
/// notifications only when the call has ended. Here each POST's answer is read as it arrives: JSON is
/// one message, `text/event-stream` is cut by `SSEParser` into one message per event. The session id
/// (`Mcp-Session-Id`) is kept and sent back.
///
/// After `initialize`, ``openEventStream()`` opens the GET stream of messages the server sends unasked
/// (`notifications/tools/list_changed` among them); a server that answers 405 offers none, and the
/// transport does without. A lost connection (refused, reset, the GET stream ending with an error) is
/// reported once to `lost`, which reconnects the server like a crashed stdio one.
actor StreamableHTTPTransport: Transport {
    nonisolated let logger = Logger(label: "agent-repl.mcp.http", factory: { _ in SwiftLogNoOpLogHandler() })
    private let url: String
    private let headers: [String: String]
    private let http: any HTTPTransport
    private var sessionID: String?
    private let messages: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    /// Called once, with why, when the server cannot be reached any more.
    private let lost: @Sendable (String) -> Void
    private let reportedLoss = Mutex(false)
    private var eventStream: Task<Void, Never>?
    private var closed = false

    init(url: String, headers: [String: String], http: any HTTPTransport, lost: @escaping @Sendable (String) -> Void = { _ in }) {
        self.url = url
        self.headers = headers
        self.http = http
        self.lost = lost
        (messages, continuation) = AsyncThrowingStream.makeStream()
    }

    func connect() async throws {}

    func disconnect() async {
        closed = true
        eventStream?.cancel()
        eventStream = nil
        if let sessionID {
            let request = HTTPRequest(url: url, method: "DELETE", headers: [("Mcp-Session-Id", sessionID)])
            _ = try? await http.fetch(request, limit: 4096)
        }
        continuation.finish()
    }

    nonisolated func receive() -> AsyncThrowingStream<Data, any Error> { messages }

    private func requestHeaders(accept: String) -> [(name: String, value: String)] {
        var requestHeaders: [(name: String, value: String)] = headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        requestHeaders.append(("Accept", accept))
        if let sessionID { requestHeaders.append(("Mcp-Session-Id", sessionID)) }
        return requestHeaders
    }

    /// Reports a lost connection (the first one only; later failures are the same loss).
    private func connectionLost(_ error: any Error) {
        guard !closed, !reportedLoss.withLock({ let was = $0; $0 = true; return was }) else { return }
        lost("the connection to \(url) ended: \(error)")
    }

    func send(_ data: Data) async throws {
        var requestHeaders = requestHeaders(accept: "application/json, text/event-stream")
        requestHeaders.append(("Content-Type", "application/json"))
        let request = HTTPRequest(url: url, method: "POST", headers: requestHeaders, body: data)
        var parts = http.send(request).makeAsyncIterator()
        let head: HTTPResponseHead
        do {
            head = try await parts.head()
        } catch let error as TransportError {
            connectionLost(error)
            throw error
        }
        if let id = head.headers["mcp-session-id"], id.utf8.count <= 1024 { sessionID = id }
        guard (200..<300).contains(head.status) else {
            let (body, _) = try await parts.collectBody(limit: 2048)
            throw MCPTransportError("the server answered HTTP \(head.status): \(String(decoding: body, as: UTF8.self).prefix(200))")
        }
        if head.status == 202 { return }
        // The SDK's client sends from a task of its own and awaits answers from `receive()`: each event
        // is handed over as it arrives, while this request's answer streams (a call's, over minutes).
        let isEventStream = head.headers["content-type"]?.lowercased().hasPrefix("text/event-stream") == true
        do {
            if isEventStream {
                try await forwardEvents(&parts)
            } else {
                let (body, truncated) = try await parts.collectBody(limit: MCPLimits.maxMessageBytes)
                guard !truncated else { throw MCPTransportError("the server sent a message longer than \(MCPLimits.maxMessageBytes) bytes") }
                if !body.isEmpty { continuation.yield(body) }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The server went away while it answered, or sent a message over the limit: its calls fail,
            // and it is reconnected.
            parts.cancel()
            connectionLost(error)
        }
    }

    /// Hands each event of an SSE answer to the client as it arrives (at most 8 MiB each).
    private func forwardEvents(_ parts: inout HTTPResponseStream.Iterator) async throws {
        var parser = SSEParser(maxEventBytes: MCPLimits.maxMessageBytes)
        while let part = try await parts.next(isolation: self) {
            guard case .body(let chunk) = part else { continue }
            for event in try parser.feed(chunk) where !event.data.isEmpty { continuation.yield(Data(event.data.utf8)) }
        }
        for event in try parser.finish() where !event.data.isEmpty { continuation.yield(Data(event.data.utf8)) }
    }

    /// Opens the GET stream of the server's own messages, read in the background until ``disconnect()``.
    /// Call it once `initialize` is done (it needs the session id).
    func openEventStream() {
        guard eventStream == nil, !closed else { return }
        eventStream = Task { await self.readEventStream() }
    }

    private func readEventStream() async {
        let request = HTTPRequest(url: url, method: "GET", headers: requestHeaders(accept: "text/event-stream"))
        var parts = http.send(request).makeAsyncIterator()
        do {
            let head = try await parts.head()
            // 405: the server offers no stream; any other refusal is taken the same way (its answers to
            // our requests still arrive), not as a lost server.
            guard (200..<300).contains(head.status),
                  head.headers["content-type"]?.lowercased().hasPrefix("text/event-stream") == true else {
                if head.status != 405 { logger.debug("no GET stream: HTTP \(head.status)") }
                parts.cancel()
                return
            }
            try await forwardEvents(&parts)
            // The server closed it: it may end a stream whenever it likes; without one it can still answer.
            logger.debug("the GET stream ended")
        } catch is CancellationError {
            return
        } catch {
            parts.cancel()
            connectionLost(error)
        }
    }
}
