import Synchronization
import JSON
import LLM
import Scheduler
import Tools

/// Turns running in the background, each on a conversation of its own, numbered as a shell numbers jobs.
///
/// All jobs share the session's one scheduler, so their tool calls compete for the same workers.
public final class BackgroundJobs: Sendable {
    public enum Status: Sendable, Equatable {
        case running
        case done(answer: String)
        case failed(String)
        case cancelled

        public var label: String {
            switch self {
            case .running: "running"
            case .done: "done"
            case .failed: "failed"
            case .cancelled: "cancelled"
            }
        }
    }

    public struct Job: Sendable {
        public var number: Int
        public var prompt: String
        public var status: Status
        /// Whether its end was shown to the user.
        public var announced: Bool
        /// The model client's notices during the turn (`TurnEvent.notice`), shown with its end.
        public var notices: [String] = []
        /// What the turn cost, once it ended, when it was started with a meter.
        public var cost: TurnMeter.Summary?
        fileprivate var task: Task<Void, Never>?
    }

    private let jobs = Mutex<[Job]>([])

    public init() {}

    /// The number the next job started will have.
    public var nextNumber: Int { jobs.withLock { ($0.last?.number ?? 0) + 1 } }

    /// Starts `prompt` on `agent` in the background; returns the job number. A failed job keeps
    /// `describeError`'s sentence for its error; `meter` and `observer`, when given, see the job's
    /// events, and `observer` its end.
    @discardableResult
    public func start(
        prompt: String, agent: Agent, meter: TurnMeter? = nil, observer: (any TurnObserver)? = nil,
        describeError: @escaping @Sendable (any Error) -> String = { String(describing: $0) }
    ) -> Int {
        let number = jobs.withLock { jobs in
            let number = (jobs.last?.number ?? 0) + 1
            jobs.append(Job(number: number, prompt: prompt, status: .running, announced: false))
            return number
        }
        let task = Task { [self] in
            let status: Status
            let result: Result<String, any Error>
            do {
                result = .success(try await agent.run(prompt: prompt) { [self] event in
                    meter?.observe(event)
                    observer?.observe(event)
                    if case .notice(let text) = event { update(number) { $0.notices.append(text) } }
                })
            } catch {
                result = .failure(error)
            }
            switch result {
            case .success(let answer): status = .done(answer: answer)
            case .failure(let error as AgentError) where error.code == .cancelled: status = .cancelled
            case .failure(let error): status = Task.isCancelled ? .cancelled : .failed(describeError(error))
            }
            // The job's agent is its own: every message it holds, the turn added.
            observer?.finish(result, describeError: describeError, messages: agent.messages)
            let cost = meter?.finish()
            update(number) {
                $0.cost = cost
                $0.status = status
            }
        }
        update(number) { job in
            if job.status == .running { job.task = task }
        }
        return number
    }

    /// Cancels job `number` and its tasks; false if there is no such running job.
    @discardableResult
    public func cancel(_ number: Int) -> Bool {
        let task = jobs.withLock { jobs in jobs.first { $0.number == number && $0.status == .running }?.task }
        task?.cancel()
        return task != nil
    }

    /// Every job, oldest first.
    public var all: [Job] { jobs.withLock { $0 } }

    /// Jobs that ended since the last call, oldest first; each is returned once.
    public func takeEnded() -> [Job] {
        jobs.withLock { jobs in
            var ended: [Job] = []
            for i in jobs.indices where jobs[i].status != .running && !jobs[i].announced {
                jobs[i].announced = true
                ended.append(jobs[i])
            }
            return ended
        }
    }

    /// Waits until every job has ended.
    public func waitForAll() async {
        for task in jobs.withLock({ $0.compactMap(\.task) }) { await task.value }
    }

    private func update(_ number: Int, _ change: (inout Job) -> Void) {
        jobs.withLock { jobs in
            if let i = jobs.firstIndex(where: { $0.number == number }) { change(&jobs[i]) }
        }
    }
}
