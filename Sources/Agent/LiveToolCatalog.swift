import Synchronization
import Tools

/// The session's tools while they change: MCP servers' tools join when a server is ready, change on
/// `notifications/tools/list_changed` and leave while it restarts. Each call is checked against the
/// catalog of the moment it arrives.
public final class LiveToolCatalog: Sendable {
    private let catalog: Mutex<ToolCatalog>

    public init(_ catalog: ToolCatalog) {
        self.catalog = Mutex(catalog)
    }

    public var current: ToolCatalog { catalog.withLock { $0 } }

    public func replace(with new: ToolCatalog) {
        catalog.withLock { $0 = new }
    }
}
