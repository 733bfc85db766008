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
//
// `spawn-probe record-order MARKER`: a tool's child records its process group before its program
// runs (see the function).

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
        + (0...5).map { ("pipes", $0, tool(["/bin/true"])) }
        + [("missing-program", 6, tool(["/nonexistent/program"])),
           ("missing-folder", 6, tool(["/bin/true"], cwd: "/nonexistent/folder")),
           ("runs", 6, tool(["/bin/true"]))]
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

/// The executable a process runs now, from /proc.
func executable(of pid: Int32) -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? "?"
}

/// Parent pid and state letter from /proc/PID/stat.
func stat(_ pid: Int32) -> (parent: Int32, state: Character)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 1, let parent = Int32(fields[1]), let state = fields[0].first else { return nil }
    return (parent, state)
}

/// Starts `argv` as an exec tool on a task of its own; the spawn blocks until the child execs.
func startTool(_ argv: [String]) -> Task<ToolResult, Never> {
    Task.detached {
        let tool = ToolDeclaration(name: "t", description: "probe", parameters: ["type": "object"], runner: .exec(argv))
        return await ToolRunner(environment: ["PATH": "/usr/bin:/bin"]).run(tool, arguments: "{}")
    }
}

/// Fills the pipe whose write end is `fd` with zero records (which a watchdog skips), so the next
/// record written blocks until the reader reads.
func fill(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    var zero: Int32 = 0
    while write(fd, &zero, 4) == 4 {}
    _ = fcntl(fd, F_SETFL, flags)
}

/// Waits (at most 30 s) for a child of this probe that is still this probe's image (it has not
/// exec'd) and sleeps: blocked writing its record into the full pipe. Nil if `marker` appears first
/// (the tool's program ran) or time runs out.
func childBlockedBeforeExec(marker: String) -> Int32? {
    let me = getpid(), image = executable(of: me)
    for _ in 0..<3000 {
        if FileManager.default.fileExists(atPath: marker) { return nil }
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        for pid in pids {
            if let s = stat(pid), s.parent == me, s.state == "S", executable(of: pid) == image { return pid }
        }
        usleep(10_000)
    }
    return nil
}

/// The record pipe is full, so a tool's child blocks writing its record. Prints whether it was
/// found blocked before its program (`touch MARKER`) ran, the first record read once the pipe is
/// drained, the child's pid, and the tool's outcome.
func recordOrder(marker: String) async {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { fatalError("pipe") }
    fill(fds[1])
    ProcessGroupRegistry.shared = ProcessGroupRegistry(descriptor: fds[1])
    let tool = startTool(["/usr/bin/touch", marker])
    let blocked = childBlockedBeforeExec(marker: marker)
    var record: Int32 = 0
    while record == 0 && read(fds[0], &record, 4) == 4 {}
    let result = await tool.value
    let line: JSONValue = [
        "blocked_child": blocked.map { .int(Int64($0)) } ?? .null, "record": .int(Int64(record)),
        "outcome": .string(result.outcome.rawValue), "ran": .bool(FileManager.default.fileExists(atPath: marker)),
    ]
    print(line.jsonString)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "fd-limit": await fdLimit()
case "record-order" where arguments.count == 2: await recordOrder(marker: arguments[1])
default:
    FileHandle.standardError.write(Data("usage: spawn-probe fd-limit | record-order MARKER\n".utf8))
    exit(2)
}
