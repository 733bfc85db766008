import Foundation
import JSON
@testable import Tools

/// Paths and helpers shared by the Tools tests.
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static func execTool(
        _ script: String, name: String = "t", parameters: JSONValue = ["type": "object"], timeout: Double? = nil,
        env: [String: String] = [:], passEnv: [String] = [], cwd: String? = nil, confirm: Bool = false
    ) -> ToolDeclaration {
        ToolDeclaration(
            name: name, description: "test tool", parameters: parameters, runner: .exec([path(script)]),
            timeout: timeout, confirm: confirm, env: env, cwd: cwd, passEnv: passEnv)
    }
}

/// A fresh folder under the system temp folder, removed by `remove()`.
struct TempFolder {
    let path: String

    init() {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("tools-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = FileSandbox.realPath(base) ?? base
    }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try! FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        if executable { chmod(file, 0o755) }
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum Proc {
    /// The state letter from /proc/PID/stat (R, S, T, Z, ...), or nil when there is no such process.
    static func state(_ pid: Int32) -> Character? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(close, offsetBy: 2)]
    }

    /// Gone, or a zombie waiting for init to reap it: either way it no longer runs.
    static func isDead(_ pid: Int32) -> Bool {
        guard let s = state(pid) else { return true }
        return s == "Z" || s == "X"
    }

    /// Polls `condition` for up to `seconds`; generous, tests check behaviour, not speed.
    static func eventually(_ seconds: Double = 60, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    static func readPID(_ file: String) async -> Int32? {
        var pid: Int32?
        _ = await eventually {
            pid = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return pid != nil
        }
        return pid
    }
}

extension ToolRunner {
    /// Starts a call whose arguments the test knows to be valid.
    func start(_ tool: ToolDeclaration, arguments: String) -> ToolExecution {
        guard case .success(let invocation) = ToolRunner.invocation(of: tool, arguments: arguments) else {
            fatalError("invalid arguments in a test: \(arguments)")
        }
        return start(invocation)
    }
}
