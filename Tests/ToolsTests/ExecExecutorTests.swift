import Foundation
import Testing
import JSON
import TestSupport
@testable import Tools

/// Real processes: the fixture scripts in Fixtures/.
@Suite(.timeLimit(.minutes(1))) struct ExecExecutorTests {
    let runner = ToolRunner(environment: ProcessInfo.processInfo.environment, killGrace: .milliseconds(300))

    @Test func argumentsArriveOnStdinAndStdoutIsTheResult() async {
        let result = await runner.run(Fixtures.execTool("echo_stdin.sh"), arguments: #"{"city": "Paris", "n": 2}"#)
        #expect(result.outcome == .success)
        #expect(result.output == "{\"city\":\"Paris\",\"n\":2}\n")
        #expect(result.exitCode == 0)
        #expect(result.stderrTail == "note on stderr\n")
    }

    @Test func emptyArgumentsAreAnEmptyObject() async {
        let result = await runner.run(Fixtures.execTool("echo_stdin.sh"), arguments: "")
        #expect(result.output == "{}\n")
    }

    @Test func nonZeroExitIsAFailedResultWithStderr() async {
        let result = await runner.run(Fixtures.execTool("fail.sh"), arguments: "{}")
        #expect(result.outcome == .failed)
        #expect(result.exitCode == 3)
        #expect(result.error == "the tool exited with status 3: something went wrong: no such city")
        #expect(result.stderrTail == "something went wrong: no such city\n")
        #expect(result.output == "partial output\n")
        #expect(result.modelContent.contains("stderr:\nsomething went wrong"))
    }

    @Test func invalidArgumentsNeverRun() async {
        let tool = Fixtures.execTool("echo_stdin.sh", parameters: ["type": "object", "properties": ["n": ["type": "integer"]], "required": ["n"]])
        let notJSON = await runner.run(tool, arguments: "{n: 1}")
        #expect(notJSON.outcome == .invalidArguments)
        #expect(notJSON.error?.hasPrefix("arguments are not valid JSON: ") == true)
        let wrong = await runner.run(tool, arguments: #"{"n": "one"}"#)
        #expect(wrong.error == "invalid arguments: property 'n' must be an integer, got string")
    }

    @Test func outputOverTheCapIsCutWithANote() async {
        let result = await runner.run(Fixtures.execTool("big_output.sh"), arguments: "{}")
        #expect(result.outcome == .success)
        #expect(result.output.hasPrefix(String(repeating: "a", count: 1 << 20)))
        #expect(result.output.hasSuffix("\n[output cut: showing the first 1048576 of 1572864 bytes]"))
    }

    @Test func backgroundedGrandchildDiesWithTheGroup() async throws {
        let result = await runner.run(Fixtures.execTool("grandchild.sh"), arguments: "{}")
        #expect(result.outcome == .success)
        let pid = try #require(Int32(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { Proc.killLeftovers([pid]) }
        #expect(await Proc.eventually { Proc.isDead(pid) }, "grandchild \(pid) still runs: \(String(describing: Proc.state(pid)))")
    }

    @Test func pauseAndResumeStopTheProcessGroup() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let pidFile = tmp.path + "/pid", release = tmp.path + "/release"
        let execution = runner.start(Fixtures.execTool("counter.py", env: ["PIDFILE": pidFile, "RELEASE": release]), arguments: "{}")
        #expect(execution.canPause)
        let pid = try #require(await Proc.readPID(pidFile))
        execution.pause()
        #expect(await Proc.eventually { Proc.state(pid) == "T" }, "state \(String(describing: Proc.state(pid)))")
        // Stays stopped, even once released: a stopped counter cannot notice the file.
        tmp.write("release", "")
        try await Task.sleep(for: .milliseconds(300))
        #expect(Proc.state(pid) == "T")
        #expect(!execution.isFinished)
        execution.resume()
        let result = await execution.result()
        #expect(result.outcome == .success)
        #expect(result.output.hasSuffix("released\n"))
    }

    @Test func pauseAndResumeFromOtherThreads() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let pidFile = tmp.path + "/pid", release = tmp.path + "/release"
        let execution = runner.start(Fixtures.execTool("counter.py", env: ["PIDFILE": pidFile, "RELEASE": release]), arguments: "{}")
        let pid = try #require(await Proc.readPID(pidFile))
        Thread.detachNewThread { execution.pause() }
        #expect(await Proc.eventually { Proc.state(pid) == "T" })
        tmp.write("release", "")
        Thread.detachNewThread { execution.resume() }
        #expect(await execution.result().outcome == .success)
    }

    /// Starts tree.sh (a shell waiting for a `sleep` grandchild; natural end in 300 s); returns the
    /// execution and the pids of the tool and of its grandchild.
    func startTree(in tmp: TempFolder) async throws -> (ToolExecution, [Int32]) {
        let pidFile = tmp.path + "/pids"
        let execution = runner.start(Fixtures.execTool("tree.sh", env: ["PIDFILE": pidFile]), arguments: "{}")
        let pids = try #require(await Proc.readPIDs(pidFile, count: 2), "tree.sh never wrote its pids")
        return (execution, pids)
    }

    @Test func cancelTerminatesEvenAPausedTool() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let (execution, pids) = try await startTree(in: tmp)
        defer { Proc.killLeftovers(pids) }
        execution.pause()
        #expect(await Proc.eventually { pids.allSatisfy(Proc.isStopped) }, "states \(pids.map(Proc.state))")
        execution.terminate()
        // Long before the tool's natural end (300 s): the result, and no process of the group.
        let result = await value { await execution.result() }
        #expect(result?.outcome == .cancelled, "no result within \(Proc.patience) of terminate()")
        #expect(await Proc.eventually { pids.allSatisfy(Proc.isDead) }, "still running: \(pids.filter { !Proc.isDead($0) })")
    }

    @Test func cancellingTheAwaitingTaskKillsTheTool() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let (execution, pids) = try await startTree(in: tmp)
        defer { Proc.killLeftovers(pids) }
        let waiter = Task { await execution.result() }
        waiter.cancel()
        let result = await value { await waiter.value }
        #expect(result?.outcome == .cancelled, "no result within \(Proc.patience) of the cancel")
        #expect(await Proc.eventually { pids.allSatisfy(Proc.isDead) }, "still running: \(pids.filter { !Proc.isDead($0) })")
    }

    /// A tool that survives SIGTERM gets SIGKILL once the grace period has passed.
    @Test func terminateSendsSIGKILLAfterTheGracePeriod() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let pidFile = tmp.path + "/pid", termLog = tmp.path + "/term.log"
        let grace = Duration.seconds(1)
        let runner = ToolRunner(environment: ProcessInfo.processInfo.environment, killGrace: grace)
        let execution = runner.start(Fixtures.execTool("ignores_term.sh", env: ["PIDFILE": pidFile, "TERMLOG": termLog]), arguments: "{}")
        let pid = try #require(await Proc.readPID(pidFile))
        defer { Proc.killLeftovers([pid]) }
        let terminated = ContinuousClock.now
        execution.terminate()
        // SIGTERM came first, and the tool lived on after it...
        #expect(await Proc.eventually { FileManager.default.fileExists(atPath: termLog) }, "the tool never saw SIGTERM")
        #expect(!Proc.isDead(pid) || ContinuousClock.now - terminated >= grace, "the tool died before the grace period")
        // ...then SIGKILL ended it, not before the grace period, and long before its natural end (300 s).
        let result = await value { await execution.result() }
        let waited = ContinuousClock.now - terminated
        #expect(result?.outcome == .cancelled, "no result within \(Proc.patience) of terminate()")
        #expect(Proc.isDead(pid))
        #expect(waited >= grace, "the result came \(waited) after terminate(), within the grace period")
    }

    /// family.py: the tool, a child and a grandchild, each looping. Pausing stops all three.
    @Test func pauseAndResumeStopTheWholeGroup() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let pidFile = tmp.path + "/pids", release = tmp.path + "/release"
        let execution = runner.start(Fixtures.execTool("family.py", env: ["PIDFILE": pidFile, "RELEASE": release]), arguments: "{}")
        let pids = try #require(await Proc.readPIDs(pidFile, count: 3), "family.py never wrote its pids")
        defer { Proc.killLeftovers(pids) }
        execution.pause()
        #expect(await Proc.eventually { pids.allSatisfy(Proc.isStopped) }, "states \(pids.map(Proc.state))")
        // Released while stopped: none of them can notice, so all stay stopped and the tool unfinished.
        tmp.write("release", "")
        try await Task.sleep(for: .milliseconds(300))
        #expect(pids.allSatisfy(Proc.isStopped), "states \(pids.map(Proc.state))")
        #expect(!execution.isFinished)
        execution.resume()
        #expect(await Proc.eventually { !pids.contains(where: Proc.isStopped) }, "states \(pids.map(Proc.state))")
        let result = await value { await execution.result() }
        #expect(result?.outcome == .success, "\(String(describing: result))")
        #expect(result?.output == "released\n")
    }

    @Test func secretsAreHiddenUnlessPassed() async {
        var env = ProcessInfo.processInfo.environment
        env["OPENAI_API_KEY"] = "sk-test"
        env["GITHUB_TOKEN"] = "ghp-test"
        env["DB_PASSWORD"] = "pw"
        env["VISIBLE_VAR"] = "yes"
        let runner = ToolRunner(environment: env)
        let result = await runner.run(
            Fixtures.execTool("printenv.sh", env: ["EXTRA": "1"], passEnv: ["DB_PASSWORD"]), arguments: "{}")
        let lines = Set(result.output.split(separator: "\n").map(String.init))
        #expect(!result.output.contains("OPENAI_API_KEY"))
        #expect(!result.output.contains("GITHUB_TOKEN"))
        #expect(lines.contains("DB_PASSWORD=pw"))
        #expect(lines.contains("VISIBLE_VAR=yes"))
        #expect(lines.contains("EXTRA=1"))
    }

    /// What SPEC.md promises, with the declaration read from a JSON file: no variable whose name has a
    /// part (split on `_`) KEY, TOKEN, SECRET, PASSWORD, PASSWD or CREDENTIAL(S), nor PGPASSWORD,
    /// OPENAI_API_KEY or a URL with a password, unless `pass_env` names it.
    @Test func secretLookingVariablesAreWithheldUnlessInPassEnv() async throws {
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("printenv.sh", "#!/bin/sh\nenv\n", executable: true)
        folder.write("env.json", #"{"name": "show_env", "description": "d", "exec": ["printenv.sh"], "pass_env": ["PASSED_SECRET", "PASSED_URL"]}"#)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        let tool = try #require(catalog.tool(named: "show_env"), "\(catalog.diagnostics)")
        let withheld = [
            "OPENAI_API_KEY", "APP_SECRET", "SECRET", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "TOKEN_FILE",
            "KEY", "MY_KEY_ID", "DB_PASSWORD", "MYSQL_PASSWD", "GOOGLE_APPLICATION_CREDENTIALS", "SERVICE_CREDENTIAL",
            "PGPASSWORD", "app_secret", "DATABASE_URL",
        ]
        let visible = ["PASSED_SECRET", "PASSED_URL", "KEYBOARD_LAYOUT", "MONKEY", "TOKENIZER_PATH", "SECRETARY", "HOMEPAGE_URL", "PROXY_URL"]
        var environment = ["PATH": "/usr/bin:/bin"]
        for name in withheld + visible { environment[name] = "value-of-\(name)" }
        environment["DATABASE_URL"] = "postgres://ann:hunter2@db.example/app"
        environment["PASSED_URL"] = "https://bob:pw@example.org/"
        environment["HOMEPAGE_URL"] = "https://example.org/"
        environment["PROXY_URL"] = "http://ann@proxy.example:3128"
        let result = await ToolRunner(environment: environment).run(tool, arguments: "{}")
        #expect(result.ok, "\(result)")
        let seen = Set(result.output.split(separator: "\n").compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        for name in withheld { #expect(!seen.contains(name), "\(name) reached the tool") }
        for name in visible { #expect(seen.contains(name), "\(name) was withheld") }
        #expect(!result.output.contains("hunter2"))
    }

    @Test func workingFolderComesFromTheDeclaration() async {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let result = await ToolRunner().run(Fixtures.execTool("pwd.sh", cwd: tmp.path), arguments: "{}")
        #expect(result.output == tmp.path + "\n")
    }

    @Test func programThatCannotStartIsAFailedResult() async {
        let tool = ToolDeclaration(name: "x", description: "d", runner: .exec(["/nonexistent/program"]))
        let result = await ToolRunner().run(tool, arguments: "{}")
        #expect(result.outcome == .failed)
        #expect(result.error == "cannot start /nonexistent/program: No such file or directory")
    }

    /// 16 calls of nap.sh (3 s each) at once: they all ran at the same time, by their own clocks.
    @Test func manyToolsInParallel() async throws {
        let runner = self.runner
        let results = await withTaskGroup(of: ToolResult.self) { group in
            for i in 0..<16 {
                group.addTask { await runner.run(Fixtures.execTool("nap.sh"), arguments: #"{"i": \#(i)}"#) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.ok })
        #expect(Set(results.map(\.output)).count == 16)
        let intervals = try results.map { result in
            let times = (result.stderrTail ?? "").split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return try #require(times.count == 2 ? (start: times[0], end: times[1]) : nil, "no times in \(result)")
        }
        // Every run started before any run ended: all 16 intervals overlap.
        let lastStart = try #require(intervals.map(\.start).max()), firstEnd = try #require(intervals.map(\.end).min())
        #expect(lastStart < firstEnd, "the last run started \(lastStart - firstEnd) s after the first one ended")
    }
}

/// What the scheduler reads to tell a CPU-bound tool from one that waits: live, the CPU demand of the
/// whole process group from `/proc` (time on a CPU plus time waiting for one); at the end, `wait4`'s CPU time.
@Suite(.timeLimit(.minutes(1))) struct ExecCPUTimeTests {
    let runner = ToolRunner(environment: ProcessInfo.processInfo.environment, killGrace: .milliseconds(300))

    func start(_ tool: ToolDeclaration) throws -> ToolExecution {
        runner.start(try ToolRunner.invocation(of: tool, arguments: "{}").get())
    }

    /// Time on a CPU plus time waiting for one.
    func demand(_ execution: ToolExecution) -> Duration? {
        execution.cpuReading().map { $0.cpu + $0.waited }
    }

    @Test func aBusyToolShowsCPUDemandAndASleepingOneAlmostNone() async throws {
        let folder = TempFolder()
        let release = folder.path + "/release"
        // The busy loop runs in a child of the tool's process (`sh -c` runs it, then `:`): only the group's
        // sum sees it while it runs. One busy loop, stopped on every path: the other tests share the cores.
        let busy = try start(ToolDeclaration(
            name: "c", description: "d", runner: .exec(["/bin/sh", "-c", "\"$0\"; :", Fixtures.path("spin_until.sh")]),
            env: ["PIDFILE": folder.path + "/pid", "RELEASE": release]))
        let nap = try start(Fixtures.execTool("nap.sh", env: ["NAP_SECONDS": "600"]))
        defer {
            FileManager.default.createFile(atPath: release, contents: nil)
            busy.terminate()
            nap.terminate()
            folder.remove()
        }
        // However crowded the machine, a busy loop runs or waits to run: 300 ms of demand soon.
        #expect(await Proc.eventually { (demand(busy) ?? .zero) >= .milliseconds(300) })
        // The nap sleeps in `sleep` once started: over half a second its demand hardly grows, however
        // crowded the machine (a sleeping process neither runs nor waits to run).
        #expect(await Proc.eventually { FileManager.default.fileExists(atPath: folder.path + "/pid") && (demand(nap) ?? .zero) > .zero })
        try await Task.sleep(for: .milliseconds(300))
        let before = try #require(demand(nap)), busyBefore = try #require(demand(busy))
        try await Task.sleep(for: .milliseconds(500))
        let napGrowth = try #require(demand(nap)) - before
        let busyGrowth = try #require(demand(busy)) - busyBefore
        #expect(napGrowth < .milliseconds(50), "\(napGrowth)")
        #expect(busyGrowth > .milliseconds(250), "\(busyGrowth): a busy loop runs or waits to run all the time")
        FileManager.default.createFile(atPath: release, contents: nil)
        let busyResult = await busy.result()
        nap.terminate()
        let napResult = await nap.result()
        #expect(try #require(busyResult.cpuTime) > .zero)
        #expect(try #require(napResult.cpuTime) < .milliseconds(100))
        #expect(busy.cpuReading() == nil, "nothing to read once the tool is over")
    }

    @Test func procLinesAreParsedFromTheirLastParenthesisAndHostileValuesAreRefused() {
        // A command name may hold spaces and parentheses: the fields count from the last ')'.
        #expect(ProcessGroupCPU.groupOf(statLine: Array("12 (a) b) (c) R 1 4242 1 0 -1".utf8)) == 4242)
        #expect(ProcessGroupCPU.groupOf(statLine: Array("12 no parenthesis".utf8)) == nil)
        #expect(ProcessGroupCPU.groupOf(statLine: Array("12 (x) R 1".utf8)) == nil, "too few fields")
        #expect(ProcessGroupCPU.groupOf(statLine: Array("12 (x) R 1 99999999999999999999 1".utf8)) == nil)
        #expect(ProcessGroupCPU.times(schedstatLine: Array("1194560 26678316 2\n".utf8))! == (1_194_560, 26_678_316))
        #expect(ProcessGroupCPU.times(schedstatLine: Array("9223372036854775807 1 2".utf8))! == (Int64.max >> 3, 1),
                "capped, so sums over a group cannot overflow")
        #expect(ProcessGroupCPU.times(schedstatLine: Array("-5 1 2".utf8)) == nil)
        #expect(ProcessGroupCPU.times(schedstatLine: Array("x 1 2".utf8)) == nil)
        #expect(ProcessGroupCPU.times(schedstatLine: Array("5".utf8)) == nil)
    }
}
