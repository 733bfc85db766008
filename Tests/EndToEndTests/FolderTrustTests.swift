import Foundation
import Testing
import TestSupport
import JSON
import LLM

/// Folder trust through the built binary: a working folder's ./tools.d and ./.env are read only
/// when it, or a folder above it, is listed in $XDG_CONFIG_HOME/agent-repl/trusted-folders.
@Suite(.timeLimit(.minutes(1))) struct FolderTrustTests {
    /// A working folder holding a tools.d with `project_tool` and `shared`, and a .env naming
    /// `endpoint`; the user's own tools.d declares `user_tool` and `shared`.
    private func project(endpoint: String, environment: [String: String] = [:]) throws -> AgentProcess {
        let process = try AgentProcess(environment: environment)
        let work = process.workingFolder
        try declare(["project_tool", "shared"], marker: "project", in: work.appendingPathComponent("tools.d"))
        try declare(["user_tool", "shared"], marker: "user", in: userTools(process))
        try "OPENAI_BASE_URL=\(endpoint)\nAGENT_MODEL=dotenv-model\n"
            .write(to: work.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        return process
    }

    private func userTools(_ process: AgentProcess) -> URL {
        URL(fileURLWithPath: process.environment["XDG_CONFIG_HOME"]!).appendingPathComponent("agent-repl/tools.d")
    }

    private func trustedList(_ process: AgentProcess) -> URL {
        URL(fileURLWithPath: process.environment["XDG_CONFIG_HOME"]!).appendingPathComponent("agent-repl/trusted-folders")
    }

    private func declare(_ names: [String], marker: String, in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in names {
            let tool: JSONValue = ["name": .string(name), "description": .string("\(marker) \(name)"), "exec": ["/bin/echo", .string(marker)]]
            try tool.jsonString.write(to: folder.appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
        }
    }

    private func offered(_ body: JSONValue?) -> [String: String] {
        var result: [String: String] = [:]
        for tool in body?["tools"]?.arrayValue ?? [] {
            if let name = tool["function"]?["name"]?.stringValue { result[name] = tool["function"]?["description"]?.stringValue ?? "" }
        }
        return result
    }

    @Test func anUntrustedFolderWithoutATerminalIsSkippedWithOneLine() async throws {
        let dotEnvServer = try await FakeOpenAIServer.start(script: [text("from the .env endpoint")])
        var process = try project(endpoint: dotEnvServer.baseURL)
        process.withoutTerminal = true
        // No key and no endpoint of its own: only the .env could name the endpoint.
        let demo = try await process.run(["-p", "hello"])
        #expect(demo.status == 0, "stderr: \(demo.stderr)")
        #expect(dotEnvServer.requests.isEmpty, "the untrusted .env's OPENAI_BASE_URL was used")
        let lines = demo.stderr.split(separator: "\n").filter { $0.contains("not trusted") }
        #expect(lines.count == 1, "stderr: \(demo.stderr)")
        #expect(lines.first?.contains(trustedList(process).path) == true, "stderr: \(demo.stderr)")
        #expect(lines.first?.contains("/trust") == true, "stderr: \(demo.stderr)")
        #expect(lines.first?.contains("tools.d (2 tools) and .env") == true, "stderr: \(demo.stderr)")

        // With an endpoint of its own: the project's tools are not offered, the user's are.
        let server = try await FakeOpenAIServer.start(script: [text("ok")])
        process.environment["OPENAI_API_KEY"] = "sk-test"
        process.environment["OPENAI_BASE_URL"] = server.baseURL
        let result = try await process.run(["-p", "hello"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let body = server.requestBodies().first
        let tools = offered(body)
        #expect(tools["project_tool"] == nil, "offered: \(tools)")
        #expect(tools["user_tool"] != nil && tools["shared"] == "user shared", "offered: \(tools)")
        #expect(body?["model"] != "dotenv-model")
        #expect(!FileManager.default.fileExists(atPath: trustedList(process).path), "nothing was trusted")
    }

    @Test func aListedFolderOrOneBelowAListedFolderIsRead() async throws {
        for listParent in [false, true] {
            let server = try await FakeOpenAIServer.start(script: [text("from the .env endpoint")])
            var process = try project(endpoint: server.baseURL)
            process.withoutTerminal = true
            let listed = listParent ? process.workingFolder.deletingLastPathComponent() : process.workingFolder
            try FileManager.default.createDirectory(at: trustedList(process).deletingLastPathComponent(), withIntermediateDirectories: true)
            try "# mine\n/nonexistent/elsewhere\n\(listed.path)\n".write(to: trustedList(process), atomically: true, encoding: .utf8)
            let result = try await process.run(["-p", "hello"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout == "from the .env endpoint\n", "the .env's endpoint was used")
            #expect(!result.stderr.contains("not trusted"), "stderr: \(result.stderr)")
            let body = server.requestBodies().first
            #expect(body?["model"] == "dotenv-model")
            let tools = offered(body)
            #expect(tools["project_tool"] == "project project_tool", "offered: \(tools)")
            // The project's `shared` does not shadow the user's.
            #expect(tools["shared"] == "user shared", "offered: \(tools)")
            #expect(result.stderr.contains("'shared' is skipped"), "stderr: \(result.stderr)")
        }
    }

    @Test func onATerminalTheQuestionIsAskedAndYesAppendsTheFolder() async throws {
        for answer in ["n", "y"] {
            let process = try project(endpoint: "http://127.0.0.1:9/v1", environment: ["AGENT_MODEL": "env-model"])
            let terminal = try PseudoTerminal(process, arguments: ["--demo"])
            try await terminal.waitFor("Trust this folder? It has tools.d (2 tools) and .env [y/N]")
            terminal.type(answer + "\r")
            let prompt = try await terminal.waitFor("/help")
            terminal.type("/tools\r")
            try await terminal.waitFor("> ", after: try await terminal.waitFor("user_tool", after: prompt))
            terminal.type("/quit\r")
            #expect(try await terminal.waitForExit() == 0)
            let listed = (try? String(contentsOf: trustedList(process), encoding: .utf8)) ?? ""
            let shown = String(terminal.output[prompt...])
            if answer == "y" {
                #expect(listed == process.workingFolder.resolvingSymlinksInPath().path + "\n")
                #expect(shown.contains("project_tool"), "\(terminal.output)")
            } else {
                #expect(listed == "")
                #expect(!shown.contains("project_tool"), "\(terminal.output)")
            }
        }
    }

    @Test func trustInTheREPLAppendsTheFolderForTheNextStart() async throws {
        var process = try project(endpoint: "http://127.0.0.1:9/v1")
        process.withoutTerminal = true
        let first = try await process.run(["--demo"], stdin: "/trust\n/tools\n")
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("Trusted \(process.workingFolder.resolvingSymlinksInPath().path)")
                || first.stdout.contains("Trusted \(process.workingFolder.path)"), "\(first.stdout)")
        #expect(first.stdout.contains("tools.d (2 tools) and .env will be read from the next start"), "\(first.stdout)")
        #expect(!first.stdout.contains("project_tool"), "not read before the next start: \(first.stdout)")
        #expect(try String(contentsOf: trustedList(process), encoding: .utf8) == process.workingFolder.resolvingSymlinksInPath().path + "\n")

        let second = try await process.run(["--demo"], stdin: "/tools\n")
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stdout.contains("project_tool"), "\(second.stdout)")
        #expect(!second.stderr.contains("not trusted"), "\(second.stderr)")
    }
}
