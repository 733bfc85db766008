import Foundation
import JSON
import Tools

#if canImport(Glibc)
import Glibc
#endif

// A process of its own for tests that would disturb others sharing the test process
// (ToolsTests' SpawnProbeTests): it lowers its own open-file limit around exec tool starts.
//
// `spawn-probe fd-limit`: for each case, sets the soft RLIMIT_NOFILE so that exactly `free`
// descriptor numbers are left, starts one exec tool call, restores the limit, waits for the result,
// and prints one JSON line {"name", "free", "outcome", "error", "leaked"}, where `leaked` is the
// number of open descriptors after the call minus before it. A first, unlimited start warms up the
// runtime and prints nothing.

/// Open descriptors below the original soft limit, counted without opening any.
func openDescriptors(below limit: Int32) -> [Int32] {
    (0..<limit).filter { fcntl($0, F_GETFD) != -1 }
}

/// The soft limit that leaves exactly `free` unused descriptor numbers below it.
func limit(leaving free: Int, open: Set<Int32>) -> rlim_t {
    var unused = 0
    var n: Int32 = 0
    while true {
        if !open.contains(n) {
            if unused == free { return rlim_t(n) }
            unused += 1
        }
        n += 1
    }
}

func fdLimit() async {
    var original = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &original)
    let ceiling = Int32(min(original.rlim_cur, 65536))
    let runner = ToolRunner(environment: ["PATH": "/usr/bin:/bin"])
    func tool(_ argv: [String], cwd: String? = nil) -> ToolDeclaration {
        ToolDeclaration(name: "t", description: "probe", parameters: ["type": "object"], runner: .exec(argv), cwd: cwd)
    }
    let cases: [(name: String, free: Int, tool: ToolDeclaration)] =
        [("warm-up", 64, tool(["/bin/true"]))]
        + (0...7).map { ("pipes", $0, tool(["/bin/true"])) }
        + [("missing-program", 8, tool(["/nonexistent/program"])),
           ("missing-folder", 8, tool(["/bin/true"], cwd: "/nonexistent/folder")),
           ("runs", 8, tool(["/bin/true"]))]
    for c in cases {
        guard case .success(let invocation) = ToolRunner.invocation(of: c.tool, arguments: "{}") else { fatalError("arguments") }
        let before = openDescriptors(below: ceiling)
        var lowered = original
        lowered.rlim_cur = limit(leaving: c.free, open: Set(before))
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0 else { fatalError("setrlimit: \(errno)") }
        let execution = runner.start(invocation)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &original) == 0 else { fatalError("setrlimit: \(errno)") }
        let result = await execution.result()
        let after = openDescriptors(below: ceiling)
        let line: JSONValue = [
            "name": .string(c.name), "free": .int(Int64(c.free)), "outcome": .string(result.outcome.rawValue),
            "error": result.error.map { .string($0) } ?? .null, "leaked": .int(Int64(after.count - before.count)),
        ]
        if c.name != "warm-up" { print(line.jsonString) }
    }
}

switch CommandLine.arguments.dropFirst().first {
case "fd-limit": await fdLimit()
default:
    FileHandle.standardError.write(Data("usage: spawn-probe fd-limit\n".utf8))
    exit(2)
}
