import Foundation
import JSON
import TestSupport
import Testing
import Tools

/// A tools.d folder of small shell tools for one test, loaded the way the front end loads tools.
struct TestToolFolder {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("repl-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A file in the folder (for pid and marker files).
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Declares tool `name` running `script` (sh) with the call's arguments on stdin.
    @discardableResult
    func add(_ name: String, script: String, confirm: Bool = false, parameters: JSONValue = ["type": "object"],
             env: [String: String] = [:]) throws -> TestToolFolder {
        let scriptURL = folder.appendingPathComponent("\(name).sh")
        try ("#!/bin/sh\n" + script + "\n").write(to: scriptURL, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scriptURL.path)
        let declaration: JSONValue = .object([
            "name": .string(name),
            "description": .string("test tool \(name)"),
            "parameters": parameters,
            "exec": [.string("./\(name).sh")],
            "confirm": .bool(confirm),
            "env": .object(env.mapValues { .string($0) }),
        ])
        try declaration.jsonString.write(to: folder.appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
        return self
    }

    /// `echo`: prints its arguments. `fail`: exits 3 with a message on stderr.
    static func standard() throws -> TestToolFolder {
        try TestToolFolder()
            .add("echo", script: "cat")
            .add("fail", script: "echo 'fail went wrong' >&2; exit 3")
    }

    /// `sleeper`: writes its pid to `pidFile`, then sleeps for five minutes.
    @discardableResult
    func addSleeper(_ name: String = "sleeper") throws -> TestToolFolder {
        try add(name, script: "echo $$ > \"$PID_FILE.tmp\" && mv \"$PID_FILE.tmp\" \"$PID_FILE\"\nexec sleep 300",
                env: ["PID_FILE": path("\(name).pid")])
    }

    /// The pid the sleeper wrote, once it started.
    func pid(of name: String = "sleeper") async throws -> pid_t {
        try #require(await Proc.readPID(path("\(name).pid")), "\(name) never started")
    }

    var catalog: ToolCatalog { ToolLoader.load(folders: [ToolFolder(folder.path)], environment: ProcessInfo.processInfo.environment) }
}
