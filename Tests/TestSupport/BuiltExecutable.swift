import Foundation

/// Executables of this package, built beside the test bundle (`agent-repl`, `spawn-probe`).
public enum BuiltExecutable {
    /// The executable `name` from the build folder the running test bundle is in.
    public static func url(_ name: String) -> URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // The bundle is `.../debug/agent-replPackageTests.xctest` (a file on Linux, a folder elsewhere).
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)")
    }

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The environment of a user with an empty home: agent-repl as the end-to-end tests and agent-bench run it.
public enum FreshUser {
    /// PATH (this process's), HOME = `home`, its XDG data and config folders under it, LANG=C.UTF-8.
    public static func environment(home: URL) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home.path,
            "XDG_DATA_HOME": home.appendingPathComponent("data").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent("config").path,
            "LANG": "C.UTF-8",
        ]
    }
}
