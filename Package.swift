// swift-tools-version: 6.0
import PackageDescription

// Layers, each depending only on those above it:
//   CCurl, CEditLine, CPosix   C: libcurl, libedit, and glibc calls Swift's Glibc hides; nothing else
//   JSON                       JSONValue, the positioned parser, the schema validator
//   HTTP                       the one libcurl transport (model client and http tools)
//   LLM                        Chat Completions client: SSE, accumulation, retries, errors
//   Scheduler                  the MLFQ state machine, its driver and clock
//   Tools                      tools.d loader, ToolRunner, the exec/http/builtin executors
//   MCPTools                   MCP servers as tools: their processes, transports, the SDK's client
//   Agent                      the agent loop, scheduled tool calls, background jobs, demo model
//   Store                      the session database (SQLite through GRDB): sessions, turns, messages, tasks
//   Server                     `serve`: the scheduler over HTTP (Hummingbird), the dashboard, the OpenAPI document
//   REPL                       the front end's logic over a Console: session, slash commands, rendering
//   agent-repl                 the executable: flags, the terminal console (libedit, signals, y/N on /dev/tty)
let package = Package(
    name: "agent-repl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agent-repl", targets: ["agent-repl"]),
        .library(name: "REPL", targets: ["REPL"]),
        .library(name: "Agent", targets: ["Agent"]),
        .library(name: "Tools", targets: ["Tools"]),
        .library(name: "Scheduler", targets: ["Scheduler"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .target(name: "CPosix"),
        .target(name: "JSON"),
        .target(name: "HTTP", dependencies: ["CCurl"]),
        .target(name: "LLM", dependencies: ["JSON", "HTTP"]),
        // Cross-module optimization: the driver is generic (`Scheduler<Value>`) and used from other
        // modules (`ToolScheduler` in Agent); without it every event runs unspecialized code that looks
        // up generic metadata at run time (3-4x the per-task overhead, docs/SCHEDULER.md).
        .target(
            name: "Scheduler", dependencies: ["JSON", .product(name: "Collections", package: "swift-collections")],
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]
        ),
        .target(name: "Tools", dependencies: ["JSON", "HTTP", "CPosix"]),
        .target(
            name: "MCPTools",
            dependencies: ["JSON", "HTTP", "LLM", "Tools", "CPosix", .product(name: "MCP", package: "swift-sdk")]
        ),
        .target(name: "Agent", dependencies: ["JSON", "LLM", "Scheduler", "Tools"]),
        .target(
            name: "Store",
            dependencies: ["Agent", "LLM", "Scheduler", "Tools", "JSON", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Server",
            dependencies: [
                "Agent", "LLM", "MCPTools", "Scheduler", "Store", "Tools", "JSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(name: "REPL", dependencies: ["Agent", "JSON", "LLM", "Scheduler", "Server", "Tools", "HTTP", "MCPTools", "Store"]),
        .executableTarget(
            name: "agent-repl",
            dependencies: [
                "REPL", "Server", "Store", "Agent", "LLM", "Scheduler", "Tools", "HTTP", "MCPTools", "CEditLine", "CPosix",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "agent-bench",
            dependencies: [
                "Agent", "LLM", "MCPTools", "Scheduler", "Tools", "JSON", "HTTP", "Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["JSON"], path: "Tests/TestSupport"),
        // A process of its own for ToolsTests that change process-wide state (the open-file limit, the
        // process-group registry).
        .executableTarget(name: "spawn-probe", dependencies: ["Tools", "JSON"], path: "Tests/SpawnProbe"),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "JSON", "TestSupport"]),
        .testTarget(name: "LLMTests", dependencies: ["LLM", "HTTP", "JSON", "TestSupport"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "JSON", "TestSupport"]),
        .testTarget(name: "ToolsTests", dependencies: ["Tools", "JSON", "TestSupport", "spawn-probe"], exclude: ["Fixtures"]),
        .testTarget(
            name: "MCPToolsTests",
            dependencies: ["MCPTools", "Agent", "Scheduler", "Tools", "JSON", "LLM", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "LLM", "Scheduler", "Tools", "JSON", "TestSupport"]),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "Agent", "LLM", "Scheduler", "Tools", "JSON", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "REPLTests", dependencies: ["REPL", "agent-repl", "Agent", "LLM", "MCPTools", "Scheduler", "Tools", "JSON", "HTTP", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Store", "Agent", "LLM", "MCPTools", "Scheduler", "Tools", "JSON", "HTTP", "TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Agent", "LLM", "Scheduler", "Tools", "JSON", "HTTP", "Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (scripts/fuzz), declared only when AGENT_REPL_FUZZ is set: they need
// `-sanitize=fuzzer`, whose runtime holds the driver their main.swift calls.
if Context.environment["AGENT_REPL_FUZZ"] != nil {
    package.targets += [
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
        .executableTarget(name: "FuzzSSE", dependencies: ["FuzzDriver", "LLM", "JSON"], path: "Fuzz/FuzzSSE"),
        .executableTarget(name: "FuzzJSON", dependencies: ["FuzzDriver", "JSON"], path: "Fuzz/FuzzJSON"),
        .executableTarget(name: "FuzzSchema", dependencies: ["FuzzDriver", "JSON"], path: "Fuzz/FuzzSchema"),
        .executableTarget(name: "FuzzToolLoader", dependencies: ["FuzzDriver", "Tools", "JSON"], path: "Fuzz/FuzzToolLoader"),
    ]
}
