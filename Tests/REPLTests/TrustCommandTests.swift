import Foundation
import Testing
import JSON
import LLM
import Tools
@testable import REPL

/// `/trust`: the working folder joins the trusted folders, read from the next start.
@Suite(.timeLimit(.minutes(1))) struct TrustCommandTests {
    private func folders() throws -> (work: URL, config: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("agent-repl-trust-\(UUID().uuidString)")
        let work = root.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("tools.d"), withIntermediateDirectories: true)
        let tool: JSONValue = ["name": "project_tool", "description": "d", "exec": ["/bin/true"]]
        try tool.jsonString.write(to: work.appendingPathComponent("tools.d/p.json"), atomically: true, encoding: .utf8)
        try "AGENT_MODEL=x\n".write(to: work.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        return (work, root.appendingPathComponent("config"))
    }

    @Test func trustAppendsTheWorkingFolderAndSaysWhatItWillRead() async throws {
        let (work, config) = try folders()
        let repl = REPLHarness(model: ScriptedModel.callingTools { _ in [] }) { options in
            options.workingFolder = work
            options.environment = ["XDG_CONFIG_HOME": config.path, "HOME": "/nonexistent"]
        }
        let list = config.appendingPathComponent("agent-repl/trusted-folders")
        let reply = try await repl.enter("/trust")
        #expect(reply.out.contains("Trusted \(work.path)"), "\(reply.all)")
        #expect(reply.out.contains("tools.d (1 tool) and .env will be read from the next start"), "\(reply.all)")
        let text = try String(contentsOf: list, encoding: .utf8)
        #expect(text == FolderTrust.resolvedForTests(work.path) + "\n")
        #expect(FolderTrust.isTrusted(work.path, environment: ["XDG_CONFIG_HOME": config.path]))

        let again = try await repl.enter("/trust")
        #expect(again.out.contains("already trusted"), "\(again.all)")
        #expect(try String(contentsOf: list, encoding: .utf8) == text, "not appended twice")
    }

    @Test func helpListsTrust() async throws {
        let repl = REPLHarness(model: ScriptedModel.callingTools { _ in [] })
        #expect(try await repl.enter("/help").out.contains("  /trust "))
    }
}

extension FolderTrust {
    static func resolvedForTests(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
