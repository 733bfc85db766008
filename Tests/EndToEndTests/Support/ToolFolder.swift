import Foundation
import Agent
import JSON
import LLM
import Scheduler
import Tools

/// A tools.d folder for one test, declaring the `worker` test tool (Fixtures/worker.py) under
/// several names, and reading back what the tool logged.
struct TestTools {
    let folder: URL
    let log: URL

    /// `tools`: name → (priority, preemptible).
    init(in parent: URL, tools: [String: (priority: Int, preemptible: Bool)] = ["work": (1, true)], timeout: Double? = nil) throws {
        folder = parent.appendingPathComponent("test-tools.d")
        log = parent.appendingPathComponent("worker.log")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = Paths.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/worker.py").path
        for (name, settings) in tools {
            var declaration: [String: JSONValue] = [
                "name": .string(name),
                "description": .string("Test worker \(name)"),
                "parameters": [
                    "type": "object",
                    "properties": ["id": ["type": "string"], "seconds": ["type": "number"], "cpu": ["type": "boolean"], "exit": ["type": "integer"]],
                    "required": ["id"],
                ],
                "exec": .array([.string(script)]),
                "priority": .int(Int64(settings.priority)),
                "preemptible": .bool(settings.preemptible),
                "env": ["WORKER_LOG": .string(log.path)],
            ]
            if let timeout { declaration["timeout"] = .double(timeout) }
            try JSONValue.object(declaration).jsonString.write(to: folder.appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
        }
    }

    struct Entry: Equatable {
        var event: String
        var id: String
        var time: Double
        var pid: Int32
    }

    /// The tools' own start and end records, in the order they were written.
    func entries() -> [Entry] {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 4, let t = Double(f[2]), let pid = Int32(f[3]) else { return nil }
            return Entry(event: String(f[0]), id: String(f[1]), time: t, pid: pid)
        }
    }

    func time(_ event: String, _ id: String) -> Double? {
        entries().first { $0.event == event && $0.id == id }?.time
    }

    /// Waits (up to a minute) until `count` tools have logged their start; returns their pids.
    func startedPIDs(count: Int) async throws -> [Int32] {
        var pids: [Int32] = []
        for _ in 0..<3000 where pids.count < count {
            pids = entries().filter { $0.event == "start" }.map(\.pid)
            try await Task.sleep(for: .milliseconds(20))
        }
        return pids
    }

    /// Ids in the order they ended.
    var endOrder: [String] { entries().filter { $0.event == "end" }.map(\.id) }
}

/// A scripted model answer that calls tools: `[(tool name, arguments)]`.
func toolCalls(_ calls: [(String, JSONValue)]) -> JSONValue {
    ["tool_calls": .array(calls.enumerated().map { i, c in ["id": .string("call_\(i)_\(c.0)"), "name": .string(c.0), "arguments": c.1] })]
}

func text(_ s: String) -> JSONValue { ["text": .string(s)] }
