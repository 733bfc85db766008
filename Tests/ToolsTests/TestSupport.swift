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

extension ToolRunner {
    /// Starts a call whose arguments the test knows to be valid.
    func start(_ tool: ToolDeclaration, arguments: String) -> ToolExecution {
        guard case .success(let invocation) = ToolRunner.invocation(of: tool, arguments: arguments) else {
            fatalError("invalid arguments in a test: \(arguments)")
        }
        return start(invocation)
    }
}
