import Foundation
import HTTP
import JSON
import Tools

/// The session's MCP servers: started together, their tools merged into the catalog, and the calls
/// `ToolRunner` hands over (``MCPToolCaller``) sent to the right one.
public final class MCPServerPool: MCPToolCaller {
    public let servers: [MCPServer]

    public init(
        _ declarations: [MCPServerDeclaration], environment: [String: String], http: any HTTPTransport = CurlTransport(),
        backoff: @escaping @Sendable (Int) -> Duration = MCPServer.standardBackoff
    ) {
        servers = declarations.map { MCPServer($0, environment: environment, http: http, backoff: backoff) }
    }

    /// The servers `catalog` declares (tools.d's `mcp` entries), not started; nil when it declares none.
    public static func declared(in catalog: ToolCatalog, environment: [String: String]) -> MCPServerPool? {
        catalog.mcpServers.isEmpty ? nil : MCPServerPool(catalog.mcpServers, environment: environment)
    }

    /// Starts every server in the background.
    public func start() {
        for server in servers { server.start() }
    }

    /// Waits until every server is ready or failed.
    public func waitUntilSettled() async {
        for server in servers { await server.waitUntilSettled() }
    }

    public func stop() async {
        for server in servers { await server.stop() }
    }

    /// The tools of the ready servers, in declaration order.
    public var tools: [ToolDeclaration] { servers.flatMap(\.tools) }

    /// `catalog` with the servers' tools added (a name already taken keeps its first tool).
    public func catalog(adding catalog: ToolCatalog) -> ToolCatalog {
        var merged = catalog
        var taken = Set(catalog.tools.map(\.name))
        for tool in tools where taken.insert(tool.name).inserted { merged.tools.append(tool) }
        return merged
    }

    /// Hands `update` `catalog` with the servers' tools added, now and each time a server's tools change
    /// (ready, `notifications/tools/list_changed`, restart). Each server keeps one such handler: the last set.
    public func follow(adding catalog: ToolCatalog, _ update: @escaping @Sendable (ToolCatalog) -> Void) {
        for server in servers {
            server.onToolsChanged { [weak self] in if let self { update(self.catalog(adding: catalog)) } }
        }
        // A server may have become ready before its handler was set.
        update(self.catalog(adding: catalog))
    }

    public func call(_ target: MCPToolTarget, arguments: JSONValue, progress: @escaping @Sendable () -> Void) async -> ToolResult {
        guard let server = servers.first(where: { $0.declaration.name == target.server }) else {
            return .failure("there is no MCP server named '\(target.server)'")
        }
        return await server.call(target.tool, arguments: arguments, progress: progress)
    }

    /// `--check-tools`: starts each server, lists its tools and stops it; one line per server, and how
    /// many could not start.
    public static func check(_ declarations: [MCPServerDeclaration], environment: [String: String]) async -> (lines: [String], failed: Int) {
        var lines: [String] = []
        var failed = 0
        for declaration in declarations {
            // No restarts here: the first failure is the answer.
            let server = MCPServer(declaration, environment: environment, startTimeout: .seconds(30), startAttempts: 1)
            server.start()
            await server.waitUntilSettled()
            let status = server.status
            let at = declaration.source.map { "\($0): " } ?? ""
            if status.state == .ready {
                let names = server.tools.map(\.name)
                lines.append("\(at)MCP server '\(declaration.name)' (\(status.serverName ?? "?") \(status.serverVersion ?? "")): \(names.count) tools: \(names.joined(separator: ", "))")
            } else {
                failed += 1
                lines.append("\(at)MCP server '\(declaration.name)' did not start: \(status.state)")
            }
            await server.stop()
        }
        return (lines, failed)
    }

    /// The `/mcp` listing: one line per server.
    public func formattedStatus() -> String {
        if servers.isEmpty { return "no MCP servers declared" }
        return servers.map { server in
            let s = server.status
            let info = s.serverName.map { " · \($0) \(s.serverVersion ?? "")" } ?? ""
            return "\(s.name)  \(s.state)  \(s.tools) tools · \(s.calls) calls · \(s.errors) errors · \(s.restarts) restarts\(info)"
        }.joined(separator: "\n")
    }
}
