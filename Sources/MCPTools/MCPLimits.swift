/// Size limits on what an MCP server sends.
public enum MCPLimits {
    /// One JSON-RPC message (a line on stdio, an event or a JSON body over HTTP).
    public static let maxMessageBytes = 8 << 20
    /// Tools taken from one server's `tools/list` (pages included).
    public static let maxTools = 256
    /// Text handed to the model from one call's result.
    public static let maxResultBytes = 1 << 20
}

/// Why a transport stopped.
public struct MCPTransportError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
