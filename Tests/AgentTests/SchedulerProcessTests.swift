import Foundation
import Testing
import TestSupport
@testable import Agent
import Scheduler
import Tools

/// Real tools, scheduled: `exec` tools run by ``ToolRunner`` in their own process groups, paused with
/// SIGSTOP and resumed with SIGCONT by the scheduler through ``ScheduledToolExecutor``.
/// counter.py naps until its RELEASE file exists; a single process, so /proc shows its state.
@Suite(.serialized, .timeLimit(.minutes(1))) struct SchedulerProcessTests {
    static func counter(_ name: String, priority: Int, in tmp: TempFolder) -> ToolDeclaration {
        ToolFixtures.exec("counter.py", name: name, priority: priority,
                          env: ["PIDFILE": tmp.file("\(name).pid"), "RELEASE": tmp.file("\(name).release")])
    }

    @Test func lowPriorityProcessIsStoppedWhileHighPriorityRunsThenResumes() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        // No boost during the test: a boost would lift the low task to the high one's level.
        let tools = ScheduledTools(
            [Self.counter("long", priority: 2, in: tmp), Self.counter("short", priority: 0, in: tmp)],
            // Long quanta: however slow the machine, the high task is not demoted to the low one's level.
            configuration: SchedulerConfiguration(strategy: .mlfq, workers: 1, baseQuantum: .seconds(30), boostPeriod: .seconds(3600)))
        let low = tools.start("long", turn: 1)
        let lowPID = try #require(await Proc.readPID(tmp.file("long.pid")))
        defer { Proc.killLeftovers([lowPID]) }
        let lowID = try #require(await tools.taskID("long", turn: 1))
        #expect([Character("R"), "S"].contains(Proc.state(lowPID) ?? "?"))

        let high = tools.start("short", turn: 2)
        let highPID = try #require(await Proc.readPID(tmp.file("short.pid")))
        defer { Proc.killLeftovers([highPID]) }
        let highID = try #require(await tools.taskID("short", turn: 2))
        #expect(tools.scheduler.record(lowID)?.state == .paused)
        #expect(await Proc.eventually { Proc.isStopped(lowPID) }, "the low task's process is stopped")
        tmp.touch("short.release")
        let highText = await value { await high.value }
        #expect(highText?.hasSuffix("released\n") == true, "\(String(describing: highText))")
        #expect(await Proc.eventually { !Proc.isStopped(lowPID) }, "the low task's process runs again")
        tmp.touch("long.release")
        let lowText = await value { await low.value }
        #expect(lowText?.hasSuffix("released\n") == true, "\(String(describing: lowText))")
        let record = try #require(tools.scheduler.record(lowID))
        #expect(record.preemptions == 1)
        #expect(record.transitions.map(\.state) == [.waiting, .running, .paused, .running, .completed])
        let highEnd = try #require(tools.scheduler.record(highID)?.endedAt), lowEnd = try #require(record.endedAt)
        #expect(highEnd < lowEnd)
    }

    /// `prompt &`: a background job's calls enter one priority below their tool's, so a foreground call
    /// of a tool of the same priority takes the worker from them.
    @Test func aBackgroundJobsCallIsPausedForTheForegroundsCall() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let tools = ScheduledTools(
            [Self.counter("job", priority: 0, in: tmp), Self.counter("fg", priority: 0, in: tmp)],
            configuration: SchedulerConfiguration(strategy: .mlfq, workers: 1, baseQuantum: .seconds(30), boostPeriod: .seconds(3600)))
        let job = tools.start("job", turn: 1, conversation: 1)
        let jobPID = try #require(await Proc.readPID(tmp.file("job.pid")))
        defer { Proc.killLeftovers([jobPID]) }
        let jobID = try #require(await tools.taskID("job", turn: 1))
        let fg = tools.start("fg", turn: 2, conversation: 0)
        let fgPID = try #require(await Proc.readPID(tmp.file("fg.pid")))
        defer { Proc.killLeftovers([fgPID]) }
        let fgID = try #require(await tools.taskID("fg", turn: 2))
        #expect(await Proc.eventually { Proc.isStopped(jobPID) }, "the job's process is stopped for the foreground's")
        #expect(tools.scheduler.record(jobID)?.priority == 1 && tools.scheduler.record(fgID)?.priority == 0)
        tmp.touch("fg.release")
        #expect(await value { await fg.value }?.hasSuffix("released\n") == true)
        #expect(await Proc.eventually { !Proc.isStopped(jobPID) }, "then the job goes on")
        tmp.touch("job.release")
        #expect(await value { await job.value }?.hasSuffix("released\n") == true)
    }

    /// With one core for CPU-bound calls, a second one waits although workers are free; an I/O-bound call
    /// does not.
    @Test func aCPUBoundCallWaitsForACoreWhileAnIOBoundOneRuns() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        func tool(_ name: String, cpu: Bool) -> ToolDeclaration {
            ToolDeclaration(
                name: name, description: "d", runner: .exec([ToolFixtures.folder.appendingPathComponent("counter.py").path]),
                priority: 0, cpu: cpu, env: ["PIDFILE": tmp.file("\(name).pid"), "RELEASE": tmp.file("\(name).release")])
        }
        let tools = ScheduledTools(
            [tool("a", cpu: true), tool("b", cpu: true), tool("io", cpu: false)],
            configuration: SchedulerConfiguration(strategy: .mlfq, workers: 8, baseQuantum: .seconds(30), cpuSlots: 1, boostPeriod: .seconds(3600)))
        let a = tools.start("a", turn: 1)
        let aPID = try #require(await Proc.readPID(tmp.file("a.pid")))
        defer { Proc.killLeftovers([aPID]) }
        let b = tools.start("b", turn: 2)
        let io = tools.start("io", turn: 3)
        let ioPID = try #require(await Proc.readPID(tmp.file("io.pid")))
        defer { Proc.killLeftovers([ioPID]) }
        #expect(tools.scheduler.stats.queued == 1, "b waits for the core a holds; io needs none")
        #expect(!FileManager.default.fileExists(atPath: tmp.file("b.pid")))
        tmp.touch("a.release")
        tmp.touch("b.release")
        tmp.touch("io.release")
        for call in [a, b, io] { #expect(await value { await call.value }?.hasSuffix("released\n") == true) }
    }

    /// Nothing declared: the scheduler reads each first call's CPU time from /proc after 100 ms of run
    /// time. A tool that sleeps gives its core back, so its second call starts; a busy one keeps it.
    @Test func theCPUUseOfAnUndeclaredToolIsMeasuredWhileItRuns() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        func tool(_ name: String, _ script: String) -> ToolDeclaration {
            ToolFixtures.exec(script, name: name, priority: 0, env: [
                "PIDFILE": tmp.file("\(name).pid"), "RELEASE": tmp.file("release"), "NAP_SECONDS": "30",
            ])
        }
        let tools = ScheduledTools(
            [tool("spin", "spin_until.sh"), tool("counter", "counter.py")],
            configuration: SchedulerConfiguration(strategy: .mlfq, workers: 8, baseQuantum: .seconds(30), cpuSlots: 1, boostPeriod: .seconds(3600)))
        // The busy one first: it holds the one core, is measured CPU-bound, and keeps it.
        let spin = tools.start("spin", turn: 1)
        let spinPID = try #require(await Proc.readPID(tmp.file("spin.pid")))
        defer { Proc.killLeftovers([spinPID]) }
        #expect(await Proc.eventually { tools.scheduler.stats.tools.isEmpty && tools.scheduler.records(limit: 1).first?.state == .running })
        let counter = tools.start("counter", turn: 2)
        // counter.py naps: not measured yet, it waits for the core spin holds.
        try await Task.sleep(for: .milliseconds(400))
        #expect(!FileManager.default.fileExists(atPath: tmp.file("counter.pid")), "an unmeasured tool waits for a core")
        #expect(tools.scheduler.stats.cpuBoundRunning == 1)
        tmp.touch("release")
        #expect(await value { await spin.value }?.hasSuffix("released\n") == true)
        #expect(await value { await counter.value }?.hasSuffix("released\n") == true)
        #expect(tools.scheduler.stats.tools["spin"]?.cpuBound == true, "measured while it ran, and at its end")
    }

    @Test func callsOfASleepingToolRunSideBySideOnceItsFirstCallIsMeasured() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let tool = ToolFixtures.exec("counter.py", name: "counter", priority: 0, env: ["PIDFILE": tmp.file("pid"), "RELEASE": tmp.file("release")])
        let tools = ScheduledTools(
            [tool], configuration: SchedulerConfiguration(strategy: .mlfq, workers: 8, baseQuantum: .seconds(30), cpuSlots: 1, boostPeriod: .seconds(3600)))
        let calls = (1...3).map { tools.start("counter", turn: $0) }
        // One core, three unmeasured calls: one starts, is found to sleep after 100 ms, and the others follow.
        #expect(await Proc.eventually { tools.scheduler.stats.running == 3 }, "all three run at once")
        #expect(tools.scheduler.stats.cpuBoundRunning == 0)
        tmp.touch("release")
        for call in calls { #expect(await value { await call.value }?.hasSuffix("released\n") == true) }
    }

    /// A stopped process must be continued to die of SIGTERM: with a 120 s grace before SIGKILL,
    /// only SIGCONT lets it end within the test's patience.
    @Test func cancellingAStoppedProcessContinuesItSoItCanDie() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let tools = ScheduledTools(
            [Self.counter("long", priority: 2, in: tmp), Self.counter("short", priority: 0, in: tmp)],
            configuration: SchedulerConfiguration(strategy: .preemptive, workers: 1), killGrace: .seconds(120))
        let low = tools.start("long", turn: 1)
        let lowPID = try #require(await Proc.readPID(tmp.file("long.pid")))
        defer { Proc.killLeftovers([lowPID]) }
        let lowID = try #require(await tools.taskID("long", turn: 1))
        let high = tools.start("short", turn: 2)
        let highPID = try #require(await Proc.readPID(tmp.file("short.pid")))
        defer { Proc.killLeftovers([highPID]) }
        #expect(await Proc.eventually { Proc.isStopped(lowPID) })
        tools.scheduler.cancel(lowID)
        let lowText = await value { await low.value }
        #expect(lowText?.contains("cancelled") == true, "\(String(describing: lowText))")
        #expect(await Proc.eventually { Proc.state(lowPID) == nil }, "the cancelled process was continued, ended and reaped")
        tmp.touch("short.release")
        let highText = await value { await high.value }
        #expect(highText?.hasSuffix("released\n") == true, "\(String(describing: highText))")
    }
}
