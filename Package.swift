// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "agent-repl",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "agent-repl", targets: ["agent-repl"]),
        .library(name: "AgentRuntime", targets: ["AgentRuntime"]),
        .library(name: "Tools", targets: ["Tools"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .target(
            name: "Tools",
            dependencies: [
                "CCurl",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .target(
            name: "AgentRuntime",
            dependencies: [
                "CCurl",
                "Tools",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .executableTarget(
            name: "agent-repl",
            dependencies: [
                "AgentRuntime",
                "Tools",
                "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "agent-bench",
            dependencies: [
                "AgentRuntime",
                "Tools",
                "TestSupport",
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Tools"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "AgentRuntimeTests",
            dependencies: ["AgentRuntime", "Tools", "TestSupport"]
        ),
        .testTarget(
            name: "ToolsTests",
            dependencies: ["Tools"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["AgentRuntime", "Tools", "TestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
