import Foundation
import Testing
import Synchronization
import JSON
import TestSupport
@testable import Scheduler

/// The driver on a manual clock (and on the real one where no time passes on purpose).
@Suite struct SchedulerDriverTests {
    static func config(_ strategy: Strategy, workers: Int = 1) -> SchedulerConfiguration {
        SchedulerConfiguration(strategy: strategy, workers: workers)
    }

    @Test func bodiesCompleteOrFail() async {
        let scheduler = TestScheduler(configuration: Self.config(.mlfq, workers: 2))
        let ok = await scheduler.run(TaskSpec(name: "echo")) { _ in "hi" }
        let bad = await scheduler.run(TaskSpec(name: "fail")) { _ in .failed("boom") }
        #expect(ok == .completed("hi"))
        #expect(bad == .failed(.failed("boom")))
        let stats = scheduler.stats
        #expect(stats.completed == 1 && stats.failed == 1 && stats.submitted == 2)
        #expect(scheduler.record(TaskID(2))?.error == "boom")
    }

    /// `startsOnCaller`: a task that can start at once has run its body up to the first suspension,
    /// on the caller's thread, by the time `submit` returns (a tool's process is spawned there); one
    /// that must wait for a worker does not begin until the worker is free, then runs as usual.
    @Test func aBodyStartedOnTheCallerBeginsBeforeSubmitReturns() async {
        let scheduler = TestScheduler(configuration: Self.config(.fifo, workers: 1))
        let callerThread = pthread_self()
        let began = Box<[String]>([])
        let onCaller = Box(false)
        let gate = Gate()
        let first = scheduler.submit(TaskSpec(name: "first"), startsOnCaller: true) { _ in
            began.update { $0.append("first") }
            onCaller.set(pthread_equal(pthread_self(), callerThread) != 0)
            await gate.wait()
            return "first"
        }
        #expect(began.value == ["first"])
        #expect(onCaller.value)
        let second = scheduler.submit(TaskSpec(name: "second"), startsOnCaller: true) { _ in
            began.update { $0.append("second") }
            return "second"
        }
        #expect(began.value == ["first"])  // no worker free: it waits in the queue
        gate.open()
        #expect(await scheduler.outcome(of: first) == .completed("first"))
        #expect(await scheduler.outcome(of: second) == .completed("second"))
        #expect(began.value == ["first", "second"])
    }

    /// A task cancelled while its body runs on the caller (before the body's Swift task is attached to
    /// its context) is cancelled all the same: the body sees it at its first suspension.
    @Test(.timeLimit(.minutes(1))) func aCancelDuringAStartOnTheCallerReachesTheBody() async {
        let scheduler = TestScheduler(configuration: Self.config(.fifo, workers: 1))
        let ownID = Box<TaskID?>(nil)
        let id = scheduler.submit(TaskSpec(name: "cancelled early"), startsOnCaller: true) { context in
            scheduler.cancel(context.id)  // still inside `submit`
            ownID.set(context.id)
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
            return "saw the cancel"
        }
        #expect(ownID.value == id)
        #expect(await scheduler.outcome(of: id) == .cancelled)
        await scheduler.waitUntilIdle()
    }

    @Test func outcomeIsRememberedAfterTheEnd() async {
        let scheduler = TestScheduler(configuration: Self.config(.fifo))
        let id = scheduler.submit(TaskSpec(name: "echo")) { _ in "done" }
        await scheduler.waitUntilIdle()
        #expect(await scheduler.outcome(of: id) == .completed("done"))
        #expect(await scheduler.outcome(of: TaskID(999)) == nil)
    }

    @Test func cooperativeTaskParksAtCheckpointWhileAHigherLevelTaskRuns() async {
        let clock = ManualSchedulerClock()
        let scheduler = TestScheduler(configuration: Self.config(.mlfq), clock: clock)
        let log = Box<[String]>([])
        let iterations = Box(0)
        let lowGate = Gate()
        let highGate = Gate()
        let low = scheduler.submit(TaskSpec(name: "low", priority: 2, preemptibility: .cooperative)) { context in
            while !lowGate.isOpen {
                await context.checkpoint()
                iterations.update { $0 += 1 }
                try? await Task.sleep(for: .milliseconds(1))
            }
            log.update { $0.append("low-end") }
            return "low"
        }
        #expect(await eventually { iterations.value > 2 })
        let high = scheduler.submit(TaskSpec(name: "high", priority: 0, preemptibility: .cooperative)) { _ in
            await highGate.wait()
            log.update { $0.append("high-end") }
            return "high"
        }
        #expect(scheduler.record(low)?.state == .paused)
        #expect(scheduler.record(high)?.state == .running)
        // Parked: at most one more iteration after the pause.
        try? await Task.sleep(for: .milliseconds(20))
        let parkedAt = iterations.value
        try? await Task.sleep(for: .milliseconds(50))
        #expect(iterations.value <= parkedAt + 1)
        highGate.open()
        #expect(await scheduler.outcome(of: high) == .completed("high"))
        #expect(await eventually { iterations.value > parkedAt + 2 })
        lowGate.open()
        #expect(await scheduler.outcome(of: low) == .completed("low"))
        #expect(log.value == ["high-end", "low-end"])
        #expect(scheduler.record(low)?.preemptions == 1)
        #expect(scheduler.stats.preemptions == 1)
    }

    @Test func quantumExpiryOnTheManualClockRotatesTasks() async {
        let clock = ManualSchedulerClock()
        let scheduler = TestScheduler(configuration: Self.config(.roundRobin), clock: clock)
        let gate = Gate()
        let body: TestScheduler.Body = { context in
            while !gate.isOpen {
                await context.checkpoint()
                try? await Task.sleep(for: .milliseconds(1))
            }
            return "ok"
        }
        let a = scheduler.submit(TaskSpec(name: "a", preemptibility: .cooperative), body: body)
        let b = scheduler.submit(TaskSpec(name: "b", preemptibility: .cooperative), body: body)
        #expect(scheduler.record(a)?.state == .running)
        #expect(await eventually { clock.sleeperCount == 1 })
        clock.advance(by: .milliseconds(200))
        #expect(await eventually { scheduler.record(b)?.state == .running })
        #expect(scheduler.record(a)?.state == .paused)
        #expect(scheduler.record(a)?.runTime == .milliseconds(200))
        gate.open()
        #expect(await scheduler.outcome(of: b) == .completed("ok"))
        #expect(await scheduler.outcome(of: a) == .completed("ok"))
        #expect(scheduler.record(a)?.pausedTime == .zero)  // resumed without the clock moving
    }

    @Test func theDriverSamplesTheLoadAndAnOutsideBusyThreadLendsACore() async {
        let clock = ManualSchedulerClock()
        let runnable = Mutex(1)
        let scheduler = TestScheduler(
            configuration: SchedulerConfiguration(strategy: .mlfq, workers: 4, baseQuantum: .seconds(100), lowestQuantum: .seconds(100), cpuSlots: 1),
            clock: clock, runnableThreads: { runnable.withLock { $0 } })
        let gate = Gate()
        let body: TestScheduler.Body = { _ in
            while !gate.isOpen { try? await Task.sleep(for: .milliseconds(1)) }
            return "ok"
        }
        let a = scheduler.submit(TaskSpec(name: "a", cpuBound: true), body: body)
        let b = scheduler.submit(TaskSpec(name: "b", cpuBound: true), body: body)
        #expect(scheduler.record(b)?.state == .waiting)
        // The reader, a, and two busy threads outside: one more than the limit.
        runnable.withLock { $0 = 4 }
        clock.advance(by: SystemLoad.samplePeriod)
        #expect(await eventually { scheduler.record(b)?.state == .running })
        #expect(scheduler.stats.cpuSlots == 2)
        gate.open()
        #expect(await scheduler.outcome(of: a) == .completed("ok"))
        #expect(await scheduler.outcome(of: b) == .completed("ok"))
    }

    @Test func theRunnableCountIsReadFromLoadavg() {
        #expect(SystemLoad.runnable(inLoadavg: Array("0.52 1.17 2.21 3/86 30987\n".utf8)) == 3)
        #expect(SystemLoad.runnable(inLoadavg: Array("0.52 1.17 2.21 /86 30987".utf8)) == nil)
        #expect(SystemLoad.runnable(inLoadavg: Array("0.52 1.17 2.21 99999999999999999999/86 1".utf8)) == nil)
        #expect(SystemLoad.runnable(inLoadavg: Array("garbage".utf8)) == nil)
        #expect(SystemLoad.runnable().map { $0 >= 1 } == true, "this machine has /proc/loadavg, and this thread runs")
    }

    @Test func timeoutEndsATaskOnceEvenIfItsBodyIgnoresCancellation() async {
        let clock = ManualSchedulerClock()
        let scheduler = TestScheduler(configuration: Self.config(.fifo), clock: clock)
        let stubborn = Gate()
        let returned = Box(false)
        let a = scheduler.submit(TaskSpec(name: "stuck", timeout: .seconds(1), preemptibility: .none)) { _ in
            await stubborn.wait()
            returned.set(true)
            return "late"
        }
        let b = scheduler.submit(TaskSpec(name: "next")) { _ in "next" }
        #expect(await eventually { clock.sleeperCount == 1 })
        clock.advance(by: .seconds(1))
        #expect(await scheduler.outcome(of: a) == .timedOut)
        // The worker was given back: the queued task ran.
        #expect(await scheduler.outcome(of: b) == .completed("next"))
        stubborn.open()
        #expect(await eventually { returned.value })
        try? await Task.sleep(for: .milliseconds(20))
        let stats = scheduler.stats
        #expect(stats.timedOut == 1 && stats.completed == 1 && stats.ended == 2 && stats.running == 0)
        #expect(scheduler.record(a)?.state == .timedOut)
    }

    /// The driver runs the body started by a finish on the same Swift task (a worker loop). A body that
    /// ignores its cancellation must not hold the worker, and the bodies after it must not inherit the
    /// cancelled Swift task.
    @Test func bodiesAfterACancelledStubbornBodyAreNotCancelled() async {
        let scheduler = TestScheduler(configuration: Self.config(.fifo))
        let stubborn = Gate()
        let started = Gate()
        let a = scheduler.submit(TaskSpec(name: "stuck", preemptibility: .none)) { _ in
            started.open()
            await stubborn.wait()
            return "late"
        }
        let rest = (0..<20).map { _ in
            scheduler.submit(TaskSpec(name: "next")) { context in
                Task.isCancelled || context.isCancelled ? "cancelled" : "ok"
            }
        }
        await started.wait()
        scheduler.cancel(a)
        #expect(await scheduler.outcome(of: a) == .cancelled)
        for id in rest { #expect(await scheduler.outcome(of: id) == .completed("ok")) }
        // The stubborn body returns on its cancelled task: ignored, and nothing runs on that task.
        let after = scheduler.submit(TaskSpec(name: "after")) { _ in Task.isCancelled ? "cancelled" : "ok" }
        stubborn.open()
        #expect(await scheduler.outcome(of: after) == .completed("ok"))
        let late = scheduler.submit(TaskSpec(name: "late")) { _ in Task.isCancelled ? "cancelled" : "ok" }
        #expect(await scheduler.outcome(of: late) == .completed("ok"))
        await scheduler.waitUntilIdle()
        #expect(scheduler.stats.cancelled == 1 && scheduler.stats.completed == 22)
    }

    @Test func cancellingAGroupCancelsItsBodies() async {
        let scheduler = TestScheduler(configuration: Self.config(.mlfq, workers: 2))
        let sleeper: TestScheduler.Body = { _ in
            try? await Task.sleep(for: .seconds(600))
            return "woke"
        }
        let a = scheduler.submit(TaskSpec(name: "sleep", group: "turn-1"), body: sleeper)
        let b = scheduler.submit(TaskSpec(name: "sleep", group: "turn-1"), body: sleeper)
        let c = scheduler.submit(TaskSpec(name: "sleep", group: "turn-1"), body: sleeper)
        let other = scheduler.submit(TaskSpec(name: "echo", group: "turn-2")) { _ in "other" }
        scheduler.cancel(group: "turn-1")
        #expect(await scheduler.outcome(of: a) == .cancelled)
        #expect(await scheduler.outcome(of: b) == .cancelled)
        #expect(await scheduler.outcome(of: c) == .cancelled)
        #expect(await scheduler.outcome(of: other) == .completed("other"))
        await scheduler.waitUntilIdle()
        #expect(scheduler.stats.cancelled == 3)
    }

    @Test func cancellingAPausedCooperativeTaskWakesItsCheckpoint() async {
        let scheduler = TestScheduler(configuration: Self.config(.preemptive))
        let highGate = Gate()
        let woke = Box(false)
        let low = scheduler.submit(TaskSpec(name: "low", priority: 3, preemptibility: .cooperative)) { context in
            while !context.isCancelled {
                await context.checkpoint()
                try? await Task.sleep(for: .milliseconds(1))
            }
            woke.set(true)
            return "stopped"
        }
        let high = scheduler.submit(TaskSpec(name: "high", priority: 0)) { _ in
            await highGate.wait()
            return "high"
        }
        #expect(scheduler.record(low)?.state == .paused)
        scheduler.cancel(low)
        #expect(await scheduler.outcome(of: low) == .cancelled)
        #expect(await eventually { woke.value })
        highGate.open()
        #expect(await scheduler.outcome(of: high) == .completed("high"))
    }

    @Test func changingStrategyAndWorkersWhileTasksRunLosesNothing() async {
        let scheduler = TestScheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: 2, baseQuantum: .milliseconds(5)))
        var rng = SplitMix64(seed: 7)
        var ids: [TaskID] = []
        for i in 0..<60 {
            let steps = Int(rng.next(below: 5))
            let preemptibility: Preemptibility = i % 3 == 0 ? .none : .cooperative
            ids.append(scheduler.submit(TaskSpec(name: "t\(i % 4)", priority: Int(rng.next(below: 4)), preemptibility: preemptibility)) { context in
                for _ in 0..<steps {
                    await context.checkpoint()
                    try? await Task.sleep(for: .milliseconds(1))
                }
                return "t\(i)"
            })
            if i % 7 == 0 { scheduler.setStrategy(Strategy.allCases[i % Strategy.allCases.count]) }
            if i % 11 == 0 { scheduler.setWorkers(1 + i % 4) }
        }
        for (i, id) in ids.enumerated() {
            #expect(await scheduler.outcome(of: id) == .completed("t\(i)"))
        }
        let stats = scheduler.stats
        #expect(stats.completed == 60 && stats.ended == 60 && stats.running == 0 && stats.paused == 0 && stats.queued == 0)
    }

    @Test func shutdownCancelsEverythingAndLaterSubmissions() async {
        let scheduler = TestScheduler(configuration: Self.config(.fifo))
        let ids = (0..<5).map { _ in
            scheduler.submit(TaskSpec(name: "sleep")) { _ in
                try? await Task.sleep(for: .seconds(600))
                return "woke"
            }
        }
        await scheduler.shutdown()
        for id in ids { #expect(await scheduler.outcome(of: id) == .cancelled) }
        #expect(await scheduler.run(TaskSpec(name: "late")) { _ in "ran" } == .cancelled)
    }

    @Test func statsJSONHasTheDocumentedKeys() throws {
        var machine = SchedulerStateMachine()
        let (id, _) = machine.submit(TaskSpec(name: "ls"), now: .zero)
        _ = machine.finished(id, succeeded: true, summary: "x", now: .milliseconds(3))
        let data = Data(JSONValue.object(machine.stats().json).jsonBytes)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // Every documented key but `model`, which is the session's.
        for key in StatsKeys.scheduler {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["strategy"] as? String == "mlfq")
        let levels = try #require(json["levels"] as? [[String: Any]])
        #expect(levels.count == 3)
        for level in levels {
            #expect(Set(level.keys).isSuperset(of: StatsKeys.level), "\(level)")
        }
        let tools = try #require(json["tools"] as? [String: [String: Any]])
        #expect(Set(try #require(tools["ls"]).keys) == StatsKeys.tool)
        let record = try JSONEncoder().encode(machine.record(id, now: .milliseconds(3)))
        let recordJSON = try #require(try JSONSerialization.jsonObject(with: record) as? [String: Any])
        #expect(recordJSON["state"] as? String == "completed")
        #expect(recordJSON["turnaround_ms"] as? Double == 3)
    }

    @Test func strategyNamesAreTheCommandNames() {
        #expect(Strategy.allCases.map(\.rawValue) == ["mlfq", "preemptive", "priority", "round_robin", "sjf", "fifo"])
        #expect(Strategy(rawValue: "round_robin") == .roundRobin)
    }
}
