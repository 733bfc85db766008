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
