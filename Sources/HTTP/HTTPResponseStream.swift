import Foundation

/// The answer to a sent request, as it arrives: `.head` exactly once and first, then `.body` chunks.
///
/// A consumer ends the transfer early by cancelling its task or by calling the iterator's `cancel()`;
/// either stops it at once. (A consumer that merely stops reading lets the transfer run to its end in
/// the background, as after a streamed answer's last event, so the connection can be reused.) A
/// consumer whose task is cancelled gets `CancellationError` rather than a silent end.
public struct HTTPResponseStream: AsyncSequence, Sendable {
    public typealias Element = HTTPResponsePart

    private let parts: AsyncThrowingStream<HTTPResponsePart, any Error>
    private let onCancel: @Sendable () -> Void

    /// `parts` as a response stream; `cancel()` on an iterator runs `onCancel`, which must stop the transfer.
    public init(_ parts: AsyncThrowingStream<HTTPResponsePart, any Error>, onCancel: @escaping @Sendable () -> Void = {}) {
        self.parts = parts
        self.onCancel = onCancel
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: parts.makeAsyncIterator(), onCancel: onCancel)
    }

    public struct Iterator: AsyncIteratorProtocol {
        private var base: AsyncThrowingStream<HTTPResponsePart, any Error>.Iterator
        private let onCancel: @Sendable () -> Void

        fileprivate init(base: AsyncThrowingStream<HTTPResponsePart, any Error>.Iterator, onCancel: @escaping @Sendable () -> Void) {
            self.base = base
            self.onCancel = onCancel
        }

        public mutating func next(isolation actor: isolated (any Actor)? = #isolation) async throws -> HTTPResponsePart? {
            guard let part = try await base.next(isolation: actor) else {
                try Task.checkCancellation()  // a stream ends silently when its consumer is cancelled
                return nil
            }
            return part
        }

        public mutating func next() async throws -> HTTPResponsePart? {
            try await next(isolation: nil)
        }

        /// Stops the transfer now; the stream then ends with `CancellationError`.
        public func cancel() {
            onCancel()
        }

        /// Reads the head, which comes first. Throws `connectionLost` when the transfer ends without one.
        public mutating func head() async throws -> HTTPResponseHead {
            guard case .head(let head)? = try await next() else {
                throw TransportError(.connectionLost, "the connection closed without an answer")
            }
            return head
        }

        /// Reads the rest of the body, keeping at most `limit` bytes. Once more arrive, the transfer is
        /// stopped (not read to its end) and the result says the body was cut.
        public mutating func collectBody(limit: Int) async throws -> (body: Data, isTruncated: Bool) {
            var body = Data()
            do {
                while let part = try await next() {
                    guard case .body(let bytes) = part else { continue }
                    guard body.count + bytes.count <= limit else {
                        body.append(bytes.prefix(limit - body.count))
                        cancel()
                        return (body, true)
                    }
                    body.append(bytes)
                }
            } catch let error as TransportError where error.code == .bodyTooLarge {
                return (body, true)  // the transport itself stopped at the request's `maxBodyBytes`
            }
            return (body, false)
        }
    }
}
