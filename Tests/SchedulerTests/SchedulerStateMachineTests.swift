import Testing
import TestSupport
@testable import Scheduler

/// One event in, the expected actions out, per strategy; then seeded random event sequences.
@Suite struct SchedulerStateMachineTests {
    typealias Action = SchedulerStateMachine.Action

    static func ms(_ value: Int) -> Duration { .milliseconds(value) }

    static func spec(
        _ name: String = "tool", priority: Int = 1, preemptibility: Preemptibility = .signals,
        estimate: Duration? = nil, timeout: Duration? = nil, group: String? = nil
    ) -> TaskSpec {
        TaskSpec(name: name, group: group, priority: priority, estimate: estimate, timeout: timeout, preemptibility: preemptibility)
    }

    /// The textbook MLFQ of these tests (quanta 200, 400, 800 ms, allotment 2 quanta) without the core
    /// limit; the product's defaults and the core rules have tests of their own below.
    static func classic(_ strategy: Strategy, workers: Int = 1) -> SchedulerConfiguration {
        SchedulerConfiguration(
            strategy: strategy, workers: workers, baseQuantum: ms(200), lowestQuantum: ms(800), allotmentQuanta: 2, cpuSlots: nil)
    }

    static func machine(_ strategy: Strategy, workers: Int = 1) -> SchedulerStateMachine {
        SchedulerStateMachine(configuration: classic(strategy, workers: workers))
    }

    
    // MARK: mlfq

    @Test func mlfqNewTaskEntersLevelOfItsPriorityAndArmsItsQuantum() {
        var m = Self.machine(.mlfq)
        let (a, actions) = m.submit(Self.spec(priority: 2), now: .zero)
        // Level 2 is the lowest of 3: quantum 800 ms, no allotment; the boost (2 s) is later.
        #expect(actions == [.start(a), .armTimer(at: Self.ms(800))])
        #expect(m.level(of: a) == 2)
        let (b, _) = m.submit(Self.spec(priority: 9), now: .zero)
        #expect(m.level(of: b) == 2)
    }

    @Test func mlfqHigherLevelArrivalPreemptsLowerLevelTask() {
        var m = Self.machine(.mlfq)
        let (a, _) = m.submit(Self.spec(priority: 2), now: .zero)
        let (b, actions) = m.submit(Self.spec(priority: 0), now: Self.ms(10))
        #expect(actions == [.pause(a), .start(b), .armTimer(at: Self.ms(210))])
        #expect(m.state(of: a) == .paused)
        #expect(m.stats().preemptions == 1)
        // When the high task ends, the paused one resumes.
        #expect(m.finished(b, succeeded: true, summary: "ok \(b)", now: Self.ms(50)) == [.finish(b, .completed), .resume(a)])
    }

    @Test func mlfqSameLevelArrivalDoesNotPreempt() {
        var m = Self.machine(.mlfq)
        _ = m.submit(Self.spec(priority: 1), now: .zero)
        let (_, actions) = m.submit(Self.spec(priority: 1), now: Self.ms(10))
        #expect(actions == [])
    }

    @Test func mlfqNonPreemptibleTaskKeepsItsWorker() {
        var m = Self.machine(.mlfq)
        _ = m.submit(Self.spec(priority: 2, preemptibility: .none), now: .zero)
        let (b, actions) = m.submit(Self.spec(priority: 0), now: Self.ms(10))
        #expect(actions == [])
        #expect(m.state(of: b) == .waiting)
    }

    @Test func mlfqQuantumExpiryRotatesWithinALevel() {
        var m = Self.machine(.mlfq)
        let (a, _) = m.submit(Self.spec(priority: 0), now: .zero)
        let (b, _) = m.submit(Self.spec(priority: 0), now: .zero)
        #expect(m.advance(to: Self.ms(200)) == [.pause(a), .start(b), .armTimer(at: Self.ms(400))])
        #expect(m.state(of: a) == .paused)
    }

    @Test func mlfqAloneAtItsLevelKeepsRunningThenMovesDownWhenAllotmentIsUsed() {
        var m = Self.machine(.mlfq)
        let (a, _) = m.submit(Self.spec(priority: 0), now: .zero)
        #expect(m.advance(to: Self.ms(200)) == [.armTimer(at: Self.ms(400))])
        #expect(m.level(of: a) == 0)
        // Allotment at level 0 = 2 quanta = 400 ms; level 1's slice is 400 ms.
        #expect(m.advance(to: Self.ms(400)) == [.armTimer(at: Self.ms(800))])
        #expect(m.level(of: a) == 1)
        #expect(m.stats().demotions == 1)
    }

    @Test func mlfqAllotmentCountsRunTimeAcrossPausesButNotPausedTime() {
        var m = Self.machine(.mlfq)
        let (a, _) = m.submit(Self.spec(priority: 1), now: .zero)  // level 1: quantum 400, allotment 800
        let (b, _) = m.submit(Self.spec(priority: 0), now: Self.ms(300))  // pauses a after 300 ms of run
        #expect(m.state(of: a) == .paused)
        _ = m.finished(b, succeeded: true, summary: "ok \(b)", now: Self.ms(350))  // a resumes: slice to 750
        #expect(m.advance(to: Self.ms(750)).isEmpty == false)
        #expect(m.level(of: a) == 1)  // 700 ms used
        _ = m.advance(to: Self.ms(850))  // 800 ms used: down to level 2
        #expect(m.level(of: a) == 2)
        let record = m.record(a, now: Self.ms(850))!
        #expect(record.runTime == Self.ms(800))
        #expect(record.pausedTime == Self.ms(50))
        #expect(record.preemptions == 1)
        #expect(record.levelHistory.map(\.level) == [1, 2])
    }

    @Test func mlfqBoostLiftsOnlyTasksStarvedAtTheirLevel() {
        var m = Self.machine(.mlfq)
        // a starts on level 2, b (level 1) pauses it and keeps the one worker: level 2 gets no run time.
        let (a, _) = m.submit(Self.spec(priority: 2), now: .zero)
        let (b, _) = m.submit(Self.spec(priority: 1), now: .zero)
        #expect(m.state(of: a) == .paused)
        // The boost first charges b's run time: b sinks to level 2, but a had waited there unserved.
        _ = m.boost(now: Self.ms(2000))
        #expect(m.level(of: a) == 0, "a waited 2 s on a level that got no run time: lifted")
        #expect(m.level(of: b) == 2, "b ran (and sank): not lifted")
        #expect(m.state(of: a) == .running)
        #expect(m.stats().boosts == 1)
        #expect(m.nextDeadline! > Self.ms(2000))
        #expect(m.checkInvariants() == nil)
    }

    @Test func mlfqBoostLeavesTasksWaitingAtALevelThatIsServed() {
        var configuration = Self.classic(.mlfq)
        configuration.lowestQuantum = .seconds(100)
        var m = SchedulerStateMachine(configuration: configuration)
        // Both on the lowest level, one worker: b waits its turn behind a, which runs: no starvation.
        let (a, _) = m.submit(Self.spec(priority: 2), now: .zero)
        let (b, _) = m.submit(Self.spec(priority: 2), now: .zero)
        #expect(m.boost(now: Self.ms(700)) == [])
        // b has waited 2.7 s, more than a period, but a ran at its level all along.
        #expect(m.boost(now: Self.ms(2700)) == [])
        #expect(m.level(of: a) == 2 && m.level(of: b) == 2)
        #expect(m.state(of: a) == .running && m.state(of: b) == .waiting)
        #expect(m.stats().boosts == 0)
    }

    @Test func mlfqBoostDoesNothingWhenEveryoneIsAtTheTop() {
        var m = Self.machine(.mlfq)
        _ = m.submit(Self.spec(priority: 0), now: .zero)
        _ = m.boost(now: Self.ms(10))
        #expect(m.stats().boosts == 0)
    }

    // MARK: cores (mlfq)

    /// Quanta long enough to stay out of the way; `cores` CPU slots.
    static func cores(_ cores: Int?, workers: Int = 8) -> SchedulerStateMachine {
        SchedulerStateMachine(configuration: SchedulerConfiguration(
            strategy: .mlfq, workers: workers, baseQuantum: .seconds(10), lowestQuantum: .seconds(100), cpuSlots: cores,
            boostPeriod: .seconds(1000)))
    }

    static func cpuSpec(_ name: String = "build", priority: Int = 0, cpu: Bool?) -> TaskSpec {
        TaskSpec(name: name, priority: priority, preemptibility: .signals, cpuBound: cpu)
    }

    @Test func cpuBoundTasksWaitForACoreWhileIOBoundOnesUseTheOtherWorkers() {
        var m = Self.cores(1)
        let (a, _) = m.submit(Self.cpuSpec(cpu: true), now: .zero)
        let (b, waiting) = m.submit(Self.cpuSpec(cpu: true), now: .zero)
        #expect(!waiting.contains(.start(b)), "the one core is held by a")
        let (c, started) = m.submit(Self.cpuSpec("fetch", cpu: false), now: .zero)
        #expect(started.contains(.start(c)), "an I/O-bound call needs no core")
        #expect(m.runningTasks == [a, c])
        #expect(m.finished(a, succeeded: true, summary: "", now: Self.ms(5)).contains(.start(b)))
        #expect(m.checkInvariants() == nil)
    }

    @Test func withoutACoreLimitEveryWorkerTakesACPUBoundTask() {
        var m = Self.cores(nil)
        for _ in 0..<3 { _ = m.submit(Self.cpuSpec(cpu: true), now: .zero) }
        #expect(m.runningTasks.count == 3)
    }

    @Test func busyThreadsOutsideBeyondTheLimitLendItCoresUpToHalfAgainAndGiveThemBack() {
        var m = Self.cores(4)
        m.sampleLoad(every: Self.ms(200))
        let (a, first) = m.submit(Self.cpuSpec(cpu: true), now: .zero)
        #expect(first == [.start(a), .armTimer(at: Self.ms(200))], "a CPU-bound task running: the load is sampled")
        let rest = (0..<6).map { _ in m.submit(Self.cpuSpec(cpu: true), now: .zero).0 }
        #expect(m.runningTasks == [a] + rest.prefix(3))
        #expect(m.advance(to: Self.ms(200)).first == .sampleLoad)
        // 9 runnable: the reader, our 4, and 4 busy threads outside, no more than the limit: nothing
        // is lent.
        #expect(m.observedLoad(runnable: 9, now: Self.ms(201)).allSatisfy { if case .start = $0 { false } else { true } })
        // 15 runnable: the reader, our 4, and 10 outside, 6 more than the limit; the median of the
        // samples (4, 10) is 10, and the loan is at most half the configured 4: two more start.
        _ = m.advance(to: Self.ms(401))
        let grown = m.observedLoad(runnable: 15, now: Self.ms(401))
        #expect(grown.prefix(2) == [.start(rest[3]), .start(rest[4])])
        #expect(grown.last == .armTimer(at: Self.ms(601)), "and the next sample")
        #expect(m.stats().cpuSlots == 6 && m.state(of: rest[5]) == .waiting)
        _ = m.advance(to: Self.ms(601))
        _ = m.observedLoad(runnable: 17, now: Self.ms(601))
        // The outside work ends (7 runnable: the reader and our 6): the median follows once most samples say so.
        _ = m.advance(to: Self.ms(801))
        #expect(m.observedLoad(runnable: 7, now: Self.ms(801)).allSatisfy { if case .pause = $0 { false } else { true } },
                "samples 4, 10, 10, 0: still 10")
        _ = m.advance(to: Self.ms(1001))
        let shrunk = m.observedLoad(runnable: 7, now: Self.ms(1001))
        #expect(shrunk.prefix(2) == [.pause(rest[4]), .pause(rest[3])], "the latest-started give their cores back")
        #expect(m.stats().cpuSlots == 4 && m.checkInvariants() == nil)
    }

    @Test func withoutCPUBoundTasksRunningTheLoadIsNotSampledAndTheLoanEnds() {
        var m = Self.cores(1)
        m.sampleLoad(every: Self.ms(200))
        let (light, actions) = m.submit(Self.cpuSpec("fetch", cpu: false), now: .zero)
        #expect(actions == [.start(light), .armTimer(at: .seconds(10))], "only its slice: an I/O-bound task needs no core")
        let (a, _) = m.submit(Self.cpuSpec(cpu: true), now: .zero)
        _ = m.advance(to: Self.ms(200))
        _ = m.observedLoad(runnable: 4, now: Self.ms(200))
        #expect(m.stats().cpuSlots == 2, "2 outside, 1 more than the limit: 1 lent (at most 1 for a limit of 1)")
        _ = m.finished(a, succeeded: true, summary: "", now: Self.ms(300))
        #expect(m.advance(to: Self.ms(400)).first == .sampleLoad)
        #expect(m.observedLoad(runnable: 4, now: Self.ms(400)).isEmpty, "nothing CPU-bound runs: no next sample")
        #expect(m.stats().cpuSlots == 1, "and nothing lent")
        #expect(m.nextDeadline == .seconds(10), "the light task's slice end, no sample")
    }

    @Test func aBetterLevelTakesTheCoreOfALowerOneEvenWithWorkersFree() {
        var m = Self.cores(1)
        let (a, _) = m.submit(Self.cpuSpec(priority: 2, cpu: true), now: .zero)
        let (b, actions) = m.submit(Self.cpuSpec(priority: 0, cpu: true), now: Self.ms(10))
        #expect(actions.prefix(2) == [.pause(a), .start(b)])
        #expect(m.checkInvariants() == nil)
    }

    @Test func aTaskPausedForABetterOneKeepsItsPlaceOnItsLevel() {
        var m = Self.cores(1)
        // a and b on the lowest level, in that order; a runs.
        let (a, _) = m.submit(Self.cpuSpec(priority: 2, cpu: true), now: .zero)
        let (b, _) = m.submit(Self.cpuSpec(priority: 2, cpu: true), now: Self.ms(1))
        let (c, _) = m.submit(Self.cpuSpec(priority: 0, cpu: true), now: Self.ms(10))
        #expect(m.state(of: a) == .paused && m.state(of: b) == .waiting)
        // When c ends, a goes on (it was first), not b: the level runs its tasks one after another.
        let next = m.finished(c, succeeded: true, summary: "", now: Self.ms(60))
        #expect(next.contains(.resume(a)) && !next.contains(.start(b)))
    }

    @Test func anUnmeasuredPausableTaskHoldsACoreUntilItsCPUTimeShowsItWaits() {
        var m = Self.cores(1)
        let (a, first) = m.submit(Self.cpuSpec("fetch", cpu: nil), now: .zero)
        #expect(first == [.start(a), .armTimer(at: Self.ms(100))], "its CPU time is read after 100 ms of run time")
        let (b, _) = m.submit(Self.cpuSpec("fetch", cpu: nil), now: Self.ms(1))
        #expect(m.state(of: b) == .waiting, "unknown counts as CPU-bound")
        #expect(m.advance(to: Self.ms(100)).first == .measureCPU(a))
        // The first reading is a baseline (start-up burns CPU whatever the tool does next): 40 ms.
        #expect(m.measuredCPU(a, demand: Self.ms(40), now: Self.ms(100)) == [.armTimer(at: Self.ms(200))])
        #expect(m.state(of: b) == .waiting)
        #expect(m.advance(to: Self.ms(200)).first == .measureCPU(a))
        // 3 ms more in the next 100 ms: I/O-bound. a gives its core back, and the tool is known now: b starts.
        let actions = m.measuredCPU(a, demand: Self.ms(43), now: Self.ms(200))
        #expect(actions.contains(.start(b)))
        #expect(m.checkInvariants() == nil)
        // A later call of the tool needs no core and is not measured again.
        let (c, later) = m.submit(Self.cpuSpec("fetch", cpu: nil), now: Self.ms(202))
        #expect(later == [.start(c)])
    }

    @Test func aMeasuredCPUBoundTaskKeepsItsCoreAndTheToolIsKnownFromThen() {
        var m = Self.cores(1)
        let (a, _) = m.submit(Self.cpuSpec("test", cpu: nil), now: .zero)
        // A baseline at 100 ms, then ten windows of 100 ms with 95 ms of CPU each: CPU-bound, decided.
        for k in 1...10 {
            #expect(m.advance(to: Self.ms(100 * k)).first == .measureCPU(a), "reading \(k)")
            #expect(m.measuredCPU(a, demand: Self.ms(95 * k), now: Self.ms(100 * k)).allSatisfy { if case .armTimer = $0 { true } else { false } })
        }
        #expect(!m.advance(to: Self.ms(1100)).contains(.measureCPU(a)), "no more readings once decided")
        // An I/O-bound call of another, unmeasured pausable tool waits for the core too.
        let (b, _) = m.submit(Self.cpuSpec("other", cpu: nil), now: Self.ms(1301))
        #expect(m.state(of: b) == .waiting)
        let (c, _) = m.submit(Self.cpuSpec("test", cpu: nil), now: Self.ms(1302))
        #expect(m.state(of: c) == .waiting)
        #expect(m.checkInvariants() == nil)
    }

    @Test func startUpCPUDoesNotMakeASleepingToolCPUBound() {
        var m = Self.cores(1)
        let (a, _) = m.submit(Self.cpuSpec("py", cpu: nil), now: .zero)
        let (b, _) = m.submit(Self.cpuSpec("py", cpu: nil), now: .zero)
        // An interpreter starting: 40 ms of CPU by 100 ms, 90 by 200, then it sleeps (91 by 300).
        for (k, cpu) in [(1, 40), (2, 90)] {
            _ = m.advance(to: Self.ms(100 * k))
            #expect(!m.measuredCPU(a, demand: Self.ms(cpu), now: Self.ms(100 * k)).contains(.start(b)))
        }
        _ = m.advance(to: Self.ms(300))
        #expect(m.measuredCPU(a, demand: Self.ms(91), now: Self.ms(300)).contains(.start(b)))
        // a short later call whose share is its start-up does not undo that.
        _ = m.finished(b, succeeded: true, summary: "", cpuTime: Self.ms(90), now: Self.ms(500))
        let (c, _) = m.submit(Self.cpuSpec("py", cpu: nil), now: Self.ms(500))
        let (d, started) = m.submit(Self.cpuSpec("py", cpu: nil), now: Self.ms(500))
        #expect(m.state(of: c) == .running && started.contains(.start(d)))
    }

    @Test func aFinishedCallTeachesWhetherItsToolIsCPUBound() {
        var m = Self.cores(1)
        let (a, _) = m.submit(Self.cpuSpec("grep", cpu: nil), now: .zero)
        // Too short to tell (under 50 ms of run time): nothing learned.
        _ = m.finished(a, succeeded: true, summary: "", cpuTime: Self.ms(1), now: Self.ms(20))
        let (b, _) = m.submit(Self.cpuSpec("grep", cpu: nil), now: Self.ms(20))
        let (c, _) = m.submit(Self.cpuSpec("grep", cpu: nil), now: Self.ms(20))
        #expect(m.state(of: c) == .waiting)
        // b ran 80 ms (its probe at 100 ms did not come yet) and used 2 ms of CPU: the waiting c starts.
        #expect(m.finished(b, succeeded: true, summary: "", cpuTime: Self.ms(2), now: Self.ms(100)).contains(.start(c)))
        #expect(m.checkInvariants() == nil)
    }

    @Test func aDeclaredCPUUseIsNotOverriddenByMeasurements() {
        var m = Self.cores(1)
        let (a, _) = m.submit(Self.cpuSpec("x", cpu: true), now: .zero)
        _ = m.finished(a, succeeded: true, summary: "", cpuTime: .zero, now: Self.ms(200))
        // The tool measured I/O-bound, but these calls declare CPU use: one core, one at a time.
        _ = m.submit(Self.cpuSpec("x", cpu: true), now: Self.ms(200))
        let (c, _) = m.submit(Self.cpuSpec("x", cpu: true), now: Self.ms(200))
        #expect(m.state(of: c) == .waiting)
    }

    @Test func otherStrategiesIgnoreTheCoreLimit() {
        var m = SchedulerStateMachine(configuration: SchedulerConfiguration(strategy: .fifo, workers: 4, cpuSlots: 1))
        for _ in 0..<3 { _ = m.submit(Self.cpuSpec(cpu: true), now: .zero) }
        #expect(m.runningTasks.count == 3)
        // Switching to mlfq enforces it: the latest started give back their cores.
        let actions = m.setStrategy(.mlfq, now: Self.ms(1))
        #expect(actions.filter { if case .pause = $0 { true } else { false } }.count == 2)
        #expect(m.checkInvariants() == nil)
    }

    @Test func aCPUBoundTaskIsChargedItsCPUTimeNotTheTimeItHeldAWorker() {
        // The defaults' levels: 50 ms at the top, 100 ms at level 1, one quantum each.
        var m = SchedulerStateMachine(configuration: SchedulerConfiguration(strategy: .mlfq, cpuSlots: 1, boostPeriod: .seconds(1000)))
        let (a, _) = m.submit(Self.cpuSpec(priority: 0, cpu: true), now: .zero)
        // Its slice ends at 50 ms, but other work shared the core: 20 ms of CPU. It stays, for 30 ms more.
        let first = m.advance(to: Self.ms(50)) { _ in Self.ms(20) }
        #expect(m.level(of: a) == 0)
        #expect(first.contains(.armTimer(at: Self.ms(80))))
        // 50 ms of CPU by 80 ms: its allotment is used; level 1 is charged from there.
        _ = m.advance(to: Self.ms(80)) { _ in Self.ms(50) }
        #expect(m.level(of: a) == 1)
        // 100 ms later it has used 70 ms of CPU at level 1: it stays, for the 30 ms left.
        let third = m.advance(to: Self.ms(180)) { _ in Self.ms(120) }
        #expect(m.level(of: a) == 1)
        #expect(third.contains(.armTimer(at: Self.ms(210))))
        #expect(m.checkInvariants() == nil)
    }

    @Test func anIOBoundTaskAndAnUnreadableOneAreChargedTheTimeTheyHeldAWorker() {
        var m = SchedulerStateMachine(configuration: SchedulerConfiguration(strategy: .mlfq, cpuSlots: 1, boostPeriod: .seconds(1000)))
        let (io, _) = m.submit(Self.cpuSpec("fetch", priority: 0, cpu: false), now: .zero)
        let (cpu, _) = m.submit(Self.cpuSpec("build", priority: 0, cpu: true), now: .zero)
        // The I/O-bound one used 1 ms of CPU, but it held a worker for its whole slice: it sinks. The CPU
        // time of the CPU-bound one cannot be read: it is charged the time it ran, and sinks too.
        _ = m.advance(to: Self.ms(50)) { $0 == io ? Self.ms(1) : nil }
        #expect(m.level(of: io) == 1 && m.level(of: cpu) == 1)
    }

    @Test func theDefaultsAreTheTunedOnes() {
        let c = SchedulerConfiguration()
        #expect(c.workers == 8 && c.levels == 3 && c.cpuSlots == SchedulerConfiguration.cores)
        #expect([0, 1, 2].map { c.quantum(atLevel: $0) } == [Self.ms(50), Self.ms(100), .seconds(10)])
        #expect(c.allotment(atLevel: 0) == Self.ms(50) && c.allotment(atLevel: 1) == Self.ms(100) && c.allotment(atLevel: 2) == nil)
    }

    // MARK: preemptive, priority

    @Test func preemptiveBetterPriorityPausesWorseRunningTask() {
        var m = Self.machine(.preemptive)
        let (a, first) = m.submit(Self.spec(priority: 3), now: .zero)
        #expect(first == [.start(a)])
        let (b, actions) = m.submit(Self.spec(priority: 1), now: Self.ms(5))
        #expect(actions == [.pause(a), .start(b)])
        let (_, same) = m.submit(Self.spec(priority: 1), now: Self.ms(6))
        #expect(same == [])
    }

    @Test func priorityDoesNotPreemptButPicksTheBestNext() {
        var m = Self.machine(.priority)
        let (a, _) = m.submit(Self.spec(priority: 3), now: .zero)
        let (_, none) = m.submit(Self.spec(priority: 2), now: .zero)
        #expect(none == [])
        let (c, _) = m.submit(Self.spec(priority: 0), now: .zero)
        #expect(m.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(1)) == [.finish(a, .completed), .start(c)])
    }

    // MARK: round_robin

    @Test func roundRobinSlicesWhenTasksOutnumberWorkers() {
        var m = Self.machine(.roundRobin)
        let (a, first) = m.submit(Self.spec(priority: 0), now: .zero)
        #expect(first == [.start(a), .armTimer(at: Self.ms(200))])
        let (b, queued) = m.submit(Self.spec(priority: 0), now: Self.ms(1))
        #expect(queued == [])
        #expect(m.advance(to: Self.ms(200)) == [.pause(a), .start(b), .armTimer(at: Self.ms(400))])
        #expect(m.advance(to: Self.ms(400)) == [.pause(b), .resume(a), .armTimer(at: Self.ms(600))])
    }

    @Test func roundRobinAloneKeepsRunning() {
        var m = Self.machine(.roundRobin)
        _ = m.submit(Self.spec(), now: .zero)
        #expect(m.advance(to: Self.ms(200)) == [.armTimer(at: Self.ms(400))])
        #expect(m.stats().preemptions == 0)
    }

    // MARK: sjf

    @Test func sjfRunsShortestDeclaredEstimateFirst() {
        var m = Self.machine(.sjf)
        let (a, _) = m.submit(Self.spec("blocker"), now: .zero)
        _ = m.submit(Self.spec("long", estimate: .seconds(5)), now: .zero)
        let (c, _) = m.submit(Self.spec("short", estimate: .seconds(1)), now: .zero)
        #expect(m.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(1)) == [.finish(a, .completed), .start(c)])
    }

    @Test func sjfReplacesDeclaredEstimateWithMeasuredAverage() {
        var m = Self.machine(.sjf)
        let (a, _) = m.submit(Self.spec("grep", estimate: .seconds(10)), now: .zero)
        _ = m.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(100))
        #expect(m.estimate(forTool: "grep", declared: .seconds(10)) == Self.ms(100))
        let (b, _) = m.submit(Self.spec("grep", estimate: .seconds(10)), now: Self.ms(100))
        _ = m.finished(b, succeeded: true, summary: "ok \(b)", now: Self.ms(400))  // 300 ms: average 0.5 * 300 + 0.5 * 100
        #expect(m.estimate(forTool: "grep", declared: nil) == Self.ms(200))
        // A learned 200 ms beats a declared 1 s.
        let (blocker, _) = m.submit(Self.spec("blocker"), now: Self.ms(400))
        _ = m.submit(Self.spec("curl", estimate: .seconds(1)), now: Self.ms(400))
        let (g, _) = m.submit(Self.spec("grep", estimate: .seconds(10)), now: Self.ms(400))
        #expect(m.finished(blocker, succeeded: true, summary: "ok \(blocker)", now: Self.ms(500)).last == .start(g))
    }

    @Test func sjfRanksAToolByEstimatesLoadedFromAnEarlierRun() {
        var earlier = Self.machine(.sjf)
        let (a, _) = earlier.submit(Self.spec("grep", estimate: .seconds(10)), now: .zero)
        _ = earlier.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(100))
        #expect(earlier.learnedEstimates == ["grep": Self.ms(100)])

        // After a restart, the first grep goes before a tool declaring 1 s.
        var m = Self.machine(.sjf)
        m.loadEstimates(earlier.learnedEstimates)
        let (blocker, _) = m.submit(Self.spec("blocker"), now: .zero)
        _ = m.submit(Self.spec("curl", estimate: .seconds(1)), now: .zero)
        let (g, _) = m.submit(Self.spec("grep", estimate: .seconds(10)), now: .zero)
        #expect(m.finished(blocker, succeeded: true, summary: "ok \(blocker)", now: Self.ms(1)).last == .start(g))
        #expect(m.stats().tools["grep"] == nil, "a loaded estimate is no run of the tool")
    }

    @Test func loadedEstimatesNeverReplaceLearnedOnesNorGoNegative() {
        var m = Self.machine(.sjf)
        let (a, _) = m.submit(Self.spec("grep"), now: .zero)
        _ = m.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(100))
        m.loadEstimates(["grep": .seconds(9), "bad": .seconds(-1), "new": Self.ms(5)])
        #expect(m.learnedEstimates == ["grep": Self.ms(100), "new": Self.ms(5)])
    }

    // MARK: fifo

    @Test func fifoIgnoresPriority() {
        var m = Self.machine(.fifo)
        let (a, _) = m.submit(Self.spec(priority: 3), now: .zero)
        let (b, _) = m.submit(Self.spec(priority: 2), now: .zero)
        _ = m.submit(Self.spec(priority: 0), now: .zero)
        #expect(m.finished(a, succeeded: false, summary: "boom", now: Self.ms(1)) == [.finish(a, .failed), .start(b)])
    }

    // MARK: cancel, timeout, exactly once

    @Test func cancelWaitingRunningAndPausedTasks() {
        var m = Self.machine(.preemptive)
        let (a, _) = m.submit(Self.spec(priority: 2), now: .zero)
        let (b, _) = m.submit(Self.spec(priority: 0), now: .zero)  // a paused
        let (c, _) = m.submit(Self.spec(priority: 1), now: .zero)  // waiting
        #expect(m.cancel(c, now: Self.ms(1)) == [.finish(c, .cancelled)])
        #expect(m.cancel(a, now: Self.ms(2)) == [.cancel(a), .finish(a, .cancelled)])
        #expect(m.cancel(b, now: Self.ms(3)) == [.cancel(b), .finish(b, .cancelled)])
        #expect(m.cancel(b, now: Self.ms(4)) == [])
        #expect(m.finished(b, succeeded: true, summary: "ok \(b)", now: Self.ms(5)) == [])
        #expect(m.stats().cancelled == 3)
        #expect(m.checkInvariants() == nil)
    }

    @Test func cancelGroupEndsOnlyThatGroup() {
        var m = Self.machine(.fifo)
        let (a, _) = m.submit(Self.spec(group: "turn-1"), now: .zero)
        let (b, _) = m.submit(Self.spec(group: "turn-1"), now: .zero)
        let (c, _) = m.submit(Self.spec(group: "turn-2"), now: .zero)
        #expect(m.cancel(group: "turn-1", now: Self.ms(1)) == [.cancel(a), .finish(a, .cancelled), .finish(b, .cancelled), .start(c)])
    }

    @Test func timeoutCountsRunTimeOnly() {
        var m = Self.machine(.preemptive)
        let (a, first) = m.submit(Self.spec(priority: 2, timeout: .seconds(1)), now: .zero)
        #expect(first == [.start(a), .armTimer(at: Self.ms(1000))])
        let (b, _) = m.submit(Self.spec(priority: 0), now: Self.ms(400))  // a paused after 400 ms
        _ = m.finished(b, succeeded: true, summary: "ok \(b)", now: Self.ms(900))  // a resumes with 600 ms left
        #expect(m.nextDeadline == Self.ms(1500))
        #expect(m.advance(to: Self.ms(1000)) == [.armTimer(at: Self.ms(1500))])
        #expect(m.advance(to: Self.ms(1500)) == [.cancel(a), .finish(a, .timedOut)])
        #expect(m.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(1600)) == [])
        #expect(m.stats().timedOut == 1)
    }

    // MARK: lanes and progress

    @Test func aFullLaneHoldsItsTasksInArrivalOrderWhileOthersStart() {
        var m = Self.machine(.mlfq, workers: 4)
        let lane = Lane(name: "mcp:files", limit: 1)
        let (a, first) = m.submit(TaskSpec(name: "read", lane: lane), now: .zero)
        #expect(first.contains(.start(a)))
        let (b, held) = m.submit(TaskSpec(name: "read", priority: 0, lane: lane), now: Self.ms(1))
        #expect(held == [])  // a worker is free, but the lane is full
        #expect(m.state(of: b) == .waiting)
        let (c, other) = m.submit(TaskSpec(name: "ls"), now: Self.ms(2))
        #expect(other.contains(.start(c)))  // a task outside the lane passes the held one
        let (d, _) = m.submit(TaskSpec(name: "read", lane: lane), now: Self.ms(3))
        #expect(m.checkInvariants() == nil)
        #expect(m.finished(a, succeeded: true, summary: "ok", now: Self.ms(10)).contains(.start(b)))
        #expect(m.state(of: d) == .waiting)
        #expect(m.cancel(d, now: Self.ms(11)) == [.finish(d, .cancelled)])
        #expect(m.finished(b, succeeded: true, summary: "ok", now: Self.ms(12)).allSatisfy { if case .start = $0 { false } else { true } })
        #expect(m.checkInvariants() == nil)
    }

    @Test func aFullLaneLetsInItsHeldTasksByPriorityThenArrival() {
        var m = Self.machine(.mlfq, workers: 4)
        let lane = Lane(name: "mcp:files", limit: 1)
        let (a, _) = m.submit(TaskSpec(name: "read", priority: 1, lane: lane), now: .zero)
        let (low, _) = m.submit(TaskSpec(name: "read", priority: 2, lane: lane), now: Self.ms(1))
        let (urgent1, _) = m.submit(TaskSpec(name: "read", priority: 0, lane: lane), now: Self.ms(2))
        let (urgent2, _) = m.submit(TaskSpec(name: "read", priority: 0, lane: lane), now: Self.ms(3))
        #expect([low, urgent1, urgent2].allSatisfy { m.state(of: $0) == .waiting })
        #expect(m.finished(a, succeeded: true, summary: "ok", now: Self.ms(10)).contains(.start(urgent1)))
        #expect(m.finished(urgent1, succeeded: true, summary: "ok", now: Self.ms(11)).contains(.start(urgent2)))
        #expect(m.state(of: low) == .waiting)
        #expect(m.finished(urgent2, succeeded: true, summary: "ok", now: Self.ms(12)).contains(.start(low)))
        #expect(m.checkInvariants() == nil)
    }

    @Test func progressRestartsTheTimeoutFromTheRunTimeOfTheReport() {
        var m = Self.machine(.fifo)
        let (a, first) = m.submit(Self.spec(preemptibility: .none, timeout: .seconds(1)), now: .zero)
        #expect(first == [.start(a), .armTimer(at: Self.ms(1000))])
        _ = m.progressed(a, now: Self.ms(800))
        #expect(m.nextDeadline == Self.ms(1800))
        #expect(m.advance(to: Self.ms(1000)) == [.armTimer(at: Self.ms(1800))])
        _ = m.progressed(a, now: Self.ms(1500))
        #expect(m.advance(to: Self.ms(1800)) == [.armTimer(at: Self.ms(2500))])
        #expect(m.advance(to: Self.ms(2500)) == [.cancel(a), .finish(a, .timedOut)])
        #expect(m.checkInvariants() == nil)
    }

    // MARK: changing settings

    @Test func setStrategyResortsWaitingTasks() {
        var m = Self.machine(.fifo)
        let (a, _) = m.submit(Self.spec(priority: 3), now: .zero)
        _ = m.submit(Self.spec(priority: 2), now: .zero)
        let (c, _) = m.submit(Self.spec(priority: 0), now: .zero)
        #expect(m.setStrategy(.priority, now: Self.ms(1)) == [])
        #expect(m.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(2)).last == .start(c))
        // Switching to preemptive lets a better waiting task pause the running one at once.
        var p = Self.machine(.priority)
        let (x, _) = p.submit(Self.spec(priority: 3), now: .zero)
        let (y, _) = p.submit(Self.spec(priority: 0), now: .zero)
        #expect(p.setStrategy(.preemptive, now: Self.ms(1)) == [.pause(x), .start(y)])
    }

    @Test func setStrategyToRoundRobinWithNewQuantumArmsSlices() {
        var m = Self.machine(.fifo)
        _ = m.submit(Self.spec(), now: .zero)
        #expect(m.setStrategy(.roundRobin, quantum: Self.ms(50), now: Self.ms(10)) == [.armTimer(at: Self.ms(60))])
        #expect(m.configuration.baseQuantum == Self.ms(50))
    }

    @Test func setWorkersGrowsAndShrinks() {
        var m = Self.machine(.fifo, workers: 2)
        let (a, _) = m.submit(Self.spec(), now: .zero)
        let (b, _) = m.submit(Self.spec(preemptibility: .none), now: .zero)
        let (c, _) = m.submit(Self.spec(), now: .zero)
        #expect(m.setWorkers(3, now: Self.ms(1)) == [.start(c)])
        // Shrinking to 1 pauses the preemptible ones; the non-preemptible keeps its worker.
        #expect(m.setWorkers(1, now: Self.ms(2)) == [.pause(c), .pause(a)])
        #expect(m.runningTasks == [b])
        #expect(m.finished(b, succeeded: true, summary: "ok \(b)", now: Self.ms(3)) == [.finish(b, .completed), .resume(a)])
        #expect(m.checkInvariants() == nil)
    }

    @Test func statsCountLevelsAndTools() {
        var m = Self.machine(.mlfq)
        let (a, _) = m.submit(Self.spec("ls", priority: 0), now: .zero)
        _ = m.submit(Self.spec("ls", priority: 2), now: .zero)
        _ = m.finished(a, succeeded: true, summary: "ok \(a)", now: Self.ms(10))
        // The level-2 task starts, then a level-1 arrival pauses it.
        _ = m.submit(Self.spec("cat", priority: 1), now: Self.ms(10))
        let stats = m.stats()
        #expect(stats.levels.map(\.quantumMs) == [200, 400, 800])
        #expect(stats.levels.map(\.queued) == [0, 0, 1])
        #expect(stats.levels.map(\.running) == [0, 1, 0])
        #expect(stats.submitted == 3 && stats.completed == 1 && stats.running == 1)
        #expect(stats.queued == 0 && stats.paused == 1 && stats.preemptions == 1)
        #expect(stats.tools["ls"] == .init(count: 1, avgMs: 10, p95Ms: 10))
        #expect(stats.avgTurnaroundMs == 10)
    }

    @Test func recordsAreBoundedAndNewestFirst() {
        var m = SchedulerStateMachine(configuration: SchedulerConfiguration(strategy: .fifo, workers: 1, recordLimit: 5))
        for i in 0..<20 {
            let (id, _) = m.submit(Self.spec(), now: Self.ms(i))
            _ = m.finished(id, succeeded: true, summary: "ok \(id)", now: Self.ms(i))
        }
        let records = m.records(limit: 100, now: Self.ms(20))
        #expect(records.map(\.id.rawValue) == [20, 19, 18, 17, 16])
        #expect(m.record(TaskID(1), now: Self.ms(20)) == nil)
        #expect(records[0].transitions.map(\.state) == [.waiting, .running, .completed])
    }

    /// Live tasks first (newest first), then ended ones; the limit cuts anywhere in between.
    @Test func recordsPutLiveTasksBeforeEndedOnesUpToTheLimit() {
        var m = SchedulerStateMachine(configuration: SchedulerConfiguration(strategy: .fifo, workers: 1))
        for i in 0..<3 {
            let (id, _) = m.submit(Self.spec(), now: Self.ms(i))
            _ = m.finished(id, succeeded: true, summary: "ok", now: Self.ms(i))
        }
        for i in 3..<6 { _ = m.submit(Self.spec(), now: Self.ms(i)) }
        #expect(m.records(limit: 100, now: Self.ms(9)).map(\.id.rawValue) == [6, 5, 4, 3, 2, 1])
        #expect(m.records(limit: 4, now: Self.ms(9)).map(\.id.rawValue) == [6, 5, 4, 3])
        #expect(m.records(limit: 2, now: Self.ms(9)).map(\.id.rawValue) == [6, 5])
        #expect(m.records(limit: 0, now: Self.ms(9)).isEmpty)
        #expect(m.records(limit: -1, now: Self.ms(9)).isEmpty)
        #expect(m.records(limit: 4, now: Self.ms(9)).map(\.state) == [.waiting, .waiting, .running, .completed])
    }

    // MARK: random sequences

    @Test(arguments: 0..<24)
    func randomEventSequencesKeepTheInvariants(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        var m = SchedulerStateMachine(configuration: SchedulerConfiguration(
            strategy: Strategy.allCases[seed % Strategy.allCases.count], workers: 1 + seed % 3, cpuSlots: seed % 4 == 3 ? nil : 1 + seed % 2))
        var now = Duration.zero
        var submitted: [TaskID] = []
        var finishes: [TaskID: Int] = [:]
        var running = Set<TaskID>()
        var paused = Set<TaskID>()
        var started = Set<TaskID>()
        var measuring: [TaskID] = []
        var loadAsked = false
        if seed % 2 == 0 { m.sampleLoad(every: .milliseconds(200)) }

        func apply(_ actions: [Action]) {
            for action in actions {
                switch action {
                case .start(let id):
                    #expect(!started.contains(id), "started twice: \(id)")
                    started.insert(id); running.insert(id)
                case .pause(let id):
                    #expect(running.contains(id), "paused a task not running: \(id)")
                    running.remove(id); paused.insert(id)
                case .resume(let id):
                    #expect(paused.contains(id), "resumed a task not paused: \(id)")
                    paused.remove(id); running.insert(id)
                case .cancel(let id):
                    #expect(started.contains(id) && (running.contains(id) || paused.contains(id)))
                case .finish(let id, _):
                    finishes[id, default: 0] += 1
                    running.remove(id); paused.remove(id)
                case .armTimer:
                    // May lie in the past here: this test skips timer callbacks at random.
                    break
                case .measureCPU(let id):
                    #expect(running.contains(id), "CPU time asked of a task not running: \(id)")
                    measuring.append(id)
                case .sampleLoad:
                    #expect(seed % 2 == 0, "load asked for without sampling turned on")
                    loadAsked = true
                }
            }
        }

        for step in 0..<400 {
            now += .milliseconds(Int(rng.next(below: 3) == 0 ? rng.next(below: 600) : rng.next(below: 20)))
            switch rng.next(below: 12) {
            case 0, 1, 2:
                let spec = TaskSpec(
                    name: ["ls", "grep", "curl"][Int(rng.next(below: 3))], group: "g\(rng.next(below: 3))",
                    priority: Int(rng.next(below: 5)),
                    estimate: rng.next(below: 2) == 0 ? .milliseconds(Int(rng.next(below: 3000))) : nil,
                    timeout: rng.next(below: 4) == 0 ? .milliseconds(50 + Int(rng.next(below: 1000))) : nil,
                    preemptibility: Preemptibility.allCases[Int(rng.next(below: 3))],
                    cpuBound: [nil, nil, true, false][Int(rng.next(below: 4))],
                    lane: [nil, nil, Lane(name: "s1", limit: 1), Lane(name: "s2", limit: 2)][Int(rng.next(below: 4))])
                let (id, actions) = m.submit(spec, now: now)
                submitted.append(id)
                apply(actions)
            case 3, 4:
                // The body of a running task (or of a paused cooperative one, before its checkpoint) ends.
                let candidates = Array(running.union(paused)).sorted()
                if let id = candidates.randomElement(using: &rng) {
                    let cpu: Duration? = rng.next(below: 2) == 0 ? nil : .milliseconds(Int(rng.next(below: 2000)))
                    apply(m.finished(id, succeeded: rng.next(below: 4) != 0, summary: "y", cpuTime: cpu, now: now))
                }
            case 5:
                if let id = (submitted.randomElement(using: &rng)) { apply(m.cancel(id, now: now)) }
            case 6:
                apply(m.cancel(group: "g\(rng.next(below: 3))", now: now))
            case 7:
                apply(m.setStrategy(Strategy.allCases.randomElement(using: &rng)!, now: now))
            case 8:
                apply(m.setWorkers(1 + Int(rng.next(below: 4)), now: now))
            case 9:
                if loadAsked, rng.next(below: 2) == 0 {
                    // The load asked for arrives: anything from idle to a crowded machine, or unreadable.
                    loadAsked = false
                    apply(m.observedLoad(runnable: rng.next(below: 5) == 0 ? nil : Int(rng.next(below: 12)), now: now))
                } else if !measuring.isEmpty, rng.next(below: 2) == 0 {
                    // The CPU time asked for arrives (or cannot be read), possibly after the task ended.
                    let id = measuring.remove(at: Int(rng.next(below: UInt64(measuring.count))))
                    let cpu: Duration? = rng.next(below: 4) == 0 ? nil : .milliseconds(Int(rng.next(below: 300)))
                    apply(m.measuredCPU(id, demand: cpu, now: now))
                } else if rng.next(below: 2) == 0, let id = Array(running).sorted().randomElement(using: &rng) {
                    apply(m.progressed(id, now: now))
                } else {
                    apply(m.boost(now: now))
                }
            default:
                if let deadline = m.nextDeadline, deadline > now { now = deadline }
                apply(m.advance(to: now))
            }
            if let broken = m.checkInvariants() {
                Issue.record("seed \(seed) step \(step): \(broken)")
                return
            }
            #expect(Set(m.runningTasks) == running, "seed \(seed) step \(step)")
            // Nothing lost, nothing ended twice.
            #expect(m.liveCount == submitted.filter { finishes[$0] == nil }.count)
            #expect(finishes.values.allSatisfy { $0 == 1 })
        }
        // Drain: everything still live is cancelled; every task then ended exactly once.
        for id in submitted { apply(m.cancel(id, now: now)) }
        #expect(m.liveCount == 0)
        #expect(m.checkInvariants() == nil)
        for id in submitted { #expect(finishes[id] == 1, "task \(id) ended \(finishes[id] ?? 0) times") }
        let stats = m.stats()
        #expect(stats.submitted == submitted.count)
        #expect(stats.ended == submitted.count)
    }
}
