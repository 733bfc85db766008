import Foundation
import Logging
import MCP
import Synchronization
import Tools

/// The SDK's `Transport` over a server process's pipes (`ServerProcess`): one JSON-RPC message per line.
///
/// Replaces the SDK's `StdioTransport`, which polls a non-blocking descriptor every 10 ms and buffers a
/// line without limit: here the process's I/O thread hands over output as it arrives, and a line longer
/// than ``MCPLimits/maxMessageBytes`` stops the server (its exit then fails the calls in flight).
actor StdioServerTransport: Transport {
    nonisolated let logger = Logger(label: "agent-repl.mcp.stdio", factory: { _ in SwiftLogNoOpLogHandler() })
    private let messages: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private let framer: Mutex<LineFramer>
    private let process = Mutex<ServerProcess?>(nil)
    /// Why the transport stopped the server (a message over the limit), if it did.
    private let failure = Mutex<String?>(nil)

    init() {
        (messages, continuation) = AsyncThrowingStream.makeStream()
        framer = Mutex(LineFramer(limit: MCPLimits.maxMessageBytes))
    }

    nonisolated func attach(_ process: ServerProcess) { self.process.withLock { $0 = process } }

    nonisolated var stopReason: String? { failure.withLock { $0 } }

    /// Called on the process's I/O thread with each chunk of its stdout.
    nonisolated func received(_ bytes: [UInt8]) {
        switch framer.withLock({ $0.feed(bytes) }) {
        case .success(let lines):
            for line in lines { continuation.yield(line) }
        case .failure(let error):
            failure.withLock { $0 = error.description }
            continuation.finish(throwing: error)
            process.withLock { $0 }?.stop()
        }
    }

    /// The process ended: the stream ends with why (the SDK's loop stops on an error).
    nonisolated func ended(_ reason: String) {
        continuation.finish(throwing: MCPTransportError(reason))
    }

    func connect() async throws {}

    func disconnect() async {
        process.withLock { $0 }?.stop()
        continuation.finish()
    }

    func send(_ data: Data) async throws {
        guard let process = process.withLock({ $0 }) else { throw MCPTransportError("the server is not running") }
        switch process.write(Array(data) + [0x0A]) {
        case .written:
            break
        case .closed:
            throw MCPTransportError("the server's input is closed")
        case .stalled:
            // It stopped reading: it is stopped, and restarted like a crashed one.
            failure.withLock { $0 = $0 ?? "the server did not read its input for 5 s" }
            process.stop()
            throw MCPTransportError("the server did not read its input for 5 s")
        }
    }

    nonisolated func receive() -> AsyncThrowingStream<Data, any Error> { messages }
}

/// Cuts bytes into lines (without the newline; empty lines dropped), at most `limit` bytes each.
/// - Complexity: O(n) in the bytes fed, however they are chunked.
struct LineFramer: Sendable {
    let limit: Int
    private var pending: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func feed(_ bytes: [UInt8]) -> Result<[Data], MCPTransportError> {
        var lines: [Data] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            pending += bytes[start..<index]
            if !pending.isEmpty, pending.count <= limit { lines.append(Data(pending)) }
            if pending.count > limit { return .failure(MCPTransportError("the server sent a message longer than \(limit) bytes")) }
            pending.removeAll(keepingCapacity: true)
            start = index + 1
        }
        pending += bytes[start...]
        if pending.count > limit { return .failure(MCPTransportError("the server sent a message longer than \(limit) bytes")) }
        return .success(lines)
    }
}
