import Foundation
import Subprocess
import Testing

@testable import Scheduler

#if canImport(Glibc)
import Glibc
#endif

/// Real child processes in their own process groups, paused with SIGSTOP and resumed with SIGCONT.
@Suite(.serialized) struct SchedulerProcessTests {
    /// Runs `script` under /bin/sh in a new process group, wiring pause/resume to the group.
    /// The scripts loop on shell builtins only: a shell stopped while it waits for a vforked child
    /// shows state D, not T, though the group is stopped all the same.
    static func shell(_ script: String, context: TaskContext, pid: Box<Int32>) async throws -> Reply {
        var options = PlatformOptions()
        options.processGroupID = 0
        let result = try await Subprocess.run(
            .path("/bin/sh"), arguments: ["-c", script], platformOptions: options,
            input: .none, output: .string(limit: 4096), error: .discarded
        ) { execution in
            pid.set(execution.processIdentifier.value)
            context.onPause({ try? execution.send(signal: .suspend, toProcessGroup: true) },
                            resume: { try? execution.send(signal: .resume, toProcessGroup: true) })
        }
        context.clearPauseHandlers()
        return .ok(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
    }

    /// The state letter of /proc/PID/stat (R, S, T, Z...), or nil once the process is gone.
    static func processState(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(close, offsetBy: 2)...].first
    }

    static func tempFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString)").path
    }

    @Test func lowPriorityProcessIsStoppedWhileHighPriorityRunsThenResumes() async throws {
        // No boost during the test: a boost would lift the low task to the high one's level.
        let scheduler = TestScheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: 1, boostPeriod: .seconds(3600)))
        let release = Self.tempFile()
        defer { try? FileManager.default.removeItem(atPath: release) }
        let lowPID = Box<Int32>(0)
        let low = scheduler.submit(TaskSpec(name: "long", priority: 2, preemptibility: .signals)) { context in
            return (try? await Self.shell("while [ ! -e '\(release)' ]; do :; done; echo low-done", context: context, pid: lowPID)) ?? .failed("the shell failed")
        }
        #expect(await eventually { lowPID.value != 0 })
        let pid = lowPID.value
        #expect(await eventually { [Character("R"), "S"].contains(Self.processState(pid) ?? "?") })

        let highGate = Gate()
        let highPID = Box<Int32>(0)
        let high = scheduler.submit(TaskSpec(name: "short", priority: 0, preemptibility: .signals)) { context in
            await highGate.wait()
            return (try? await Self.shell("echo high-done", context: context, pid: highPID)) ?? .failed("the shell failed")
        }
        #expect(scheduler.record(low)?.state == .paused)
        #expect(await eventually { Self.processState(pid) == "T" }, "the low task's shell is stopped")
        highGate.open()
        #expect(await scheduler.outcome(of: high) == .completed("high-done"))
        #expect(await eventually { Self.processState(pid).map { $0 != "T" } ?? true }, "the low task's shell runs again")
        _ = FileManager.default.createFile(atPath: release, contents: Data())
        #expect(await scheduler.outcome(of: low) == .completed("low-done"))
        let record = try #require(scheduler.record(low))
        #expect(record.preemptions == 1)
        #expect(record.transitions.map(\.state) == [.waiting, .running, .paused, .running, .completed])
        #expect(scheduler.record(high)!.endedAt! < record.endedAt!)
    }

    @Test func cancellingAStoppedProcessContinuesItSoItCanDie() async throws {
        let scheduler = TestScheduler(configuration: SchedulerConfiguration(strategy: .preemptive, workers: 1))
        let lowPID = Box<Int32>(0)
        let low = scheduler.submit(TaskSpec(name: "long", priority: 2, preemptibility: .signals)) { context in
            return (try? await Self.shell("while :; do :; done", context: context, pid: lowPID)) ?? .failed("the shell failed")
        }
        #expect(await eventually { lowPID.value != 0 })
        let pid = lowPID.value
        let highGate = Gate()
        let high = scheduler.submit(TaskSpec(name: "short", priority: 0)) { _ in
            await highGate.wait()
            return "high"
        }
        #expect(await eventually { Self.processState(pid) == "T" })
        scheduler.cancel(low)
        #expect(await scheduler.outcome(of: low) == .cancelled)
        #expect(await eventually { Self.processState(pid) == nil }, "the cancelled process was continued, ended and reaped")
        highGate.open()
        #expect(await scheduler.outcome(of: high) == .completed("high"))
    }

    @Test func timeoutKillsARunningProcess() async throws {
        let scheduler = TestScheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: 1))
        let pid = Box<Int32>(0)
        let id = scheduler.submit(TaskSpec(name: "hang", timeout: .milliseconds(300), preemptibility: .signals)) { context in
            return (try? await Self.shell("sleep 600", context: context, pid: pid)) ?? .failed("the shell failed")
        }
        #expect(await scheduler.outcome(of: id) == .timedOut)
        #expect(await eventually { pid.value != 0 && Self.processState(pid.value) == nil })
    }
}
