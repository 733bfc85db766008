// libFuzzer target: one tools.d file (tools or an MCP server), through the loader, as `--check-tools` and the start-up read it.
// Run by scripts/fuzz.
import Foundation
import FuzzDriver
import JSON
import Tools

/// The file's folder: relative programs and `cwd` resolve against it (it need not exist).
let path = NSTemporaryDirectory() + "agent-repl-fuzz/tools.d/fuzz.json"
let environment = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let contents = Data(bytes: data, count: size)
    let (tools, servers, diagnostics) = ToolLoader.loadEntries(contents: contents, path: path, environment: environment)
    for tool in tools {
        // What ScheduledToolExecutor makes of a declaration's times for the scheduler.
        _ = (tool.estimatedTime.map(Duration.seconds), tool.timeout.map(Duration.seconds))
    }
    for server in servers {
        // An MCP server's entry: its timeout for the scheduler, and the name a tool of it gets.
        _ = (server.timeout.map(Duration.seconds), server.tool(named: "x/y", description: "", parameters: [:]).name)
    }
    let catalog = ToolCatalog(tools: tools, diagnostics: diagnostics)
    _ = catalog.formattedList()
    for diagnostic in catalog.diagnostics { _ = diagnostic.description }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 })
