import Foundation
import HTTP
import LLM
import Logging
import MCP

/// The SDK's `Transport` for Streamable HTTP over the project's one libcurl transport.
///
/// Replaces the SDK's `HTTPClientTransport`, which on Linux reads each answer whole with URLSession
/// (no EventSource there): an answer sent as server-sent events reaches it as one blob, and progress
/// notifications only when the call has ended. Here each POST's answer is read as it arrives: JSON is
/// one message, `text/event-stream` is cut by `SSEParser` into one message per event. The session id
/// (`Mcp-Session-Id`) is kept and sent back. Not done: the optional GET stream of messages the server
/// sends unasked (so `notifications/tools/list_changed` reaches a stdio server only).
actor StreamableHTTPTransport: Transport {
    nonisolated let logger = Logger(label: "agent-repl.mcp.http", factory: { _ in SwiftLogNoOpLogHandler() })
    private let url: String
    private let headers: [String: String]
    private let http: any HTTPTransport
    private var sessionID: String?
    private let messages: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation

    init(url: String, headers: [String: String], http: any HTTPTransport) {
        self.url = url
        self.headers = headers
        self.http = http
        (messages, continuation) = AsyncThrowingStream.makeStream()
    }

    func connect() async throws {}

    func disconnect() async {
        if let sessionID {
            let request = HTTPRequest(url: url, method: "DELETE", headers: [("Mcp-Session-Id", sessionID)])
            _ = try? await http.fetch(request, limit: 4096)
        }
        continuation.finish()
    }

    nonisolated func receive() -> AsyncThrowingStream<Data, any Error> { messages }

    func send(_ data: Data) async throws {
        var requestHeaders: [(name: String, value: String)] = headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        requestHeaders += [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")]
        if let sessionID { requestHeaders.append(("Mcp-Session-Id", sessionID)) }
        let request = HTTPRequest(url: url, method: "POST", headers: requestHeaders, body: data)
        var parts = http.send(request).makeAsyncIterator()
        let head = try await parts.head()
        if let id = head.headers["mcp-session-id"], id.utf8.count <= 1024 { sessionID = id }
        guard (200..<300).contains(head.status) else {
            let (body, _) = try await parts.collectBody(limit: 2048)
            throw MCPTransportError("the server answered HTTP \(head.status): \(String(decoding: body, as: UTF8.self).prefix(200))")
        }
        if head.status == 202 { return }
        // The SDK's client sends from a task of its own and awaits answers from `receive()`: each event
        // is handed over as it arrives, while this request's answer streams (a call's, over minutes).
        let eventStream = head.headers["content-type"]?.lowercased().hasPrefix("text/event-stream") == true
        do {
            do {
                if eventStream {
                    var parser = SSEParser(maxEventBytes: MCPLimits.maxMessageBytes)
                    while let part = try await parts.next() {
                        guard case .body(let chunk) = part else { continue }
                        for event in try parser.feed(chunk) where !event.data.isEmpty { continuation.yield(Data(event.data.utf8)) }
                    }
                    for event in try parser.finish() where !event.data.isEmpty { continuation.yield(Data(event.data.utf8)) }
                } else {
                    let (body, truncated) = try await parts.collectBody(limit: MCPLimits.maxMessageBytes)
                    guard !truncated else { throw MCPTransportError("the server sent a message longer than \(MCPLimits.maxMessageBytes) bytes") }
                    if !body.isEmpty { continuation.yield(body) }
                }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.debug("answer stream ended: \(error)")
        }
    }
}
