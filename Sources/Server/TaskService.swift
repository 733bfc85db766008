import Agent
import Foundation
import JSON
import LLM
import MCPTools
import Scheduler
import Synchronization
import Tools

/// The scheduler as the HTTP API sees it: submits checked tasks, lists and describes them with the
/// original service's field names (ours beside them), cancels them, switches the strategy and the
/// workers, and refuses new work when the queue is full or the server drains.
public final class TaskService: Sendable {
    /// What the API knows of a task beyond the scheduler's record: the name the client gave, the type.
    struct TaskInfo: Sendable {
        var name: String
        var taskType: String
        var estimatedTime: Double?
    }

    public let scheduler: ToolScheduler
    public let executor: ScheduledToolExecutor
    public let model: any ChatModel
    public let modelName: String
    /// Tasks not yet ended beyond which `POST /tasks` answers 429.
    public let maxLiveTasks: Int
    /// The MCP servers this service owns: started with the server, stopped when it drains (nil: none,
    /// or the servers belong to someone else, like a chat's `/serve`).
    public let mcp: MCPServerPool?
    private let clock: any SchedulerClock
    /// The wall-clock time at the scheduler clock's `origin`, for the ISO 8601 times of task objects.
    private let wallOrigin: Date
    private let origin: Duration
    private let infos = Mutex<[TaskID: TaskInfo]>([:])
    private let draining = Atomic<Bool>(false)

    /// `catalog`'s tools, and those of `mcp`'s servers as each becomes ready (`mcp` is not started yet:
    /// ``AgentServer/run(handlesSignals:onListening:)`` starts it).
    public convenience init(
        scheduler: ToolScheduler, clock: any SchedulerClock, catalog: ToolCatalog, runner: ToolRunner, mcp: MCPServerPool? = nil,
        model: any ChatModel, modelName: String, maxLiveTasks: Int = 1000
    ) {
        var runner = runner
        runner.mcp = mcp
        let live = LiveToolCatalog(catalog)
        mcp?.follow(adding: catalog) { live.replace(with: $0) }
        self.init(
            scheduler: scheduler, clock: clock, liveCatalog: live, runner: runner, owning: mcp, model: model, modelName: modelName,
            maxLiveTasks: maxLiveTasks)
    }

    /// The tools of `liveCatalog` as it changes; `owning`: the MCP servers to start and stop with the server.
    public init(
        scheduler: ToolScheduler, clock: any SchedulerClock, liveCatalog: LiveToolCatalog, runner: ToolRunner, owning mcp: MCPServerPool? = nil,
        model: any ChatModel, modelName: String, maxLiveTasks: Int = 1000
    ) {
        self.scheduler = scheduler
        self.clock = clock
        self.executor = ScheduledToolExecutor(scheduler: scheduler, liveCatalog: liveCatalog, runner: runner)
        self.mcp = mcp
        self.model = model
        self.modelName = modelName
        self.maxLiveTasks = max(1, maxLiveTasks)
        origin = clock.now
        wallOrigin = Date()
    }

    public var catalog: ToolCatalog { executor.catalog }

    /// A new conversation for `POST /chat`: the model with every tool, its calls on this scheduler.
    /// The tools offered are read at each step: MCP servers' tools join while the server runs.
    public func makeAgent(conversation: Int, maxSteps: Int = 12) -> Agent {
        var configuration = Agent.Configuration(model: modelName, tools: executor.definitions, maxSteps: maxSteps)
        configuration.liveTools = { [executor] in executor.definitions }
        return Agent(id: conversation, model: model, configuration: configuration, executor: executor, clock: clock)
    }

    // MARK: Tasks

    /// Queues a checked task; 429 when ``maxLiveTasks`` have not ended, 503 while draining.
    public func submit(_ request: TaskRequest) throws(Problem) -> TaskID {
        if isDraining { throw Problem(.serviceUnavailable, "The server is shutting down and takes no new tasks.", retryAfter: 5) }
        guard scheduler.liveCount < maxLiveTasks else {
            throw Problem(.tooManyRequests, "\(maxLiveTasks) tasks are queued or running; try again when some have ended.", retryAfter: 1)
        }
        let id: TaskID
        let group = "api"
        switch request.work {
        case .tool(let invocation):
            id = executor.submit(invocation, group: group, priority: request.priority, estimate: request.estimate)
        case .functionCall(let call):
            let spec = TaskSpec(
                name: "function_call", group: group, priority: request.priority, estimate: request.estimate,
                preemptibility: .none, cpuBound: false, detail: call.function.name)
            id = scheduler.submit(spec, body: functionCallBody(call))
        }
        let info = TaskInfo(name: request.name, taskType: request.taskType, estimatedTime: request.estimate.map { $0.milliseconds / 1000 })
        infos.withLock { infos in
            infos[id] = info
            // Forget the oldest beyond what the scheduler remembers.
            let limit = scheduler.configuration.recordLimit * 2
            if infos.count > limit {
                for old in infos.keys.sorted().prefix(infos.count - limit / 2) { infos[old] = nil }
            }
        }
        return id
    }

    /// One model request offering the function; the value is the function call the model chose
    /// (`{"function_call": {"name", "arguments"}}`) or its text (`{"content"}`).
    private func functionCallBody(_ call: TaskRequest.FunctionCall) -> ToolScheduler.Body {
        { [model, modelName] _ in
            let request = ChatRequest(
                model: modelName, messages: [.user(call.content)], tools: [call.function], toolChoice: "auto")
            do {
                let completion = try await model.answer(request) { _ in }
                if Task.isCancelled { return .failure("the task was cancelled", outcome: .cancelled) }
                let answer: JSONValue
                if let first = completion.toolCalls.first {
                    answer = ["function_call": ["name": .string(first.name), "arguments": .string(first.arguments)]]
                } else {
                    answer = ["content": .string(completion.content ?? "")]
                }
                return .success(answer.jsonString)
            } catch {
                if Task.isCancelled { return .failure("the task was cancelled", outcome: .cancelled) }
                return .failure("the model request failed: \(error)")
            }
        }
    }

    /// Newest first, at most `limit`, optionally only in one state or of one tool.
    public func tasks(limit: Int, state: TaskState? = nil, tool: String? = nil) -> [JSONValue] {
        let filtered = state != nil || tool != nil
        let records = scheduler.records(limit: filtered ? scheduler.configuration.recordLimit : limit)
        let infos = infos.withLock { $0 }
        var result: [JSONValue] = []
        for record in records where result.count < limit {
            if let state, record.state != state { continue }
            if let tool, record.name != tool { continue }
            result.append(object(record, infos[record.id]))
        }
        return result
    }

    public func task(_ id: TaskID) -> JSONValue? {
        scheduler.record(id).map { object($0, infos.withLock { $0[id] }) }
    }

    /// Cancels a live task; nil when unknown, the record unchanged when it had ended.
    public func cancel(_ id: TaskID) async -> JSONValue? {
        guard let record = scheduler.record(id) else { return nil }
        if !record.state.isFinal {
            scheduler.cancel(id)
            _ = await scheduler.outcome(of: id)
        }
        return task(id)
    }

    // MARK: Settings and statistics

    public func setStrategy(_ strategy: Strategy, timeSlice: Duration?) {
        scheduler.setStrategy(strategy, quantum: timeSlice)
    }

    public func setWorkers(_ workers: Int) {
        scheduler.setWorkers(workers)
    }

    /// `/stats json`'s scheduler keys, with the original's beside them (`total`, `avg_wait_time` and
    /// `avg_execution_time` in seconds, `queued_tasks`, `running_tasks`) and the model's name.
    public func stats() -> JSONValue {
        let stats = scheduler.stats
        let runs = stats.tools.values.reduce(into: (count: 0, sum: 0.0)) { $0.count += $1.count; $0.sum += Double($1.count) * $1.avgMs }
        var object = stats.json
        object["total"] = .int(Int64(stats.submitted))
        object["avg_wait_time"] = .double(stats.avgWaitMs / 1000)
        object["avg_execution_time"] = .double(runs.count == 0 ? 0 : runs.sum / Double(runs.count) / 1000)
        object["queued_tasks"] = .int(Int64(stats.queued + stats.paused))
        object["running_tasks"] = .int(Int64(stats.running))
        object["model"] = ["name": .string(modelName)]
        return .object(object)
    }

    // MARK: Draining

    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Takes no new tasks, lets the running ones end for up to `grace`, then cancels the rest and stops
    /// the MCP servers it owns.
    public func drain(grace: Duration) async {
        draining.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + grace
        while scheduler.liveCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await scheduler.shutdown()
        await mcp?.stop()
    }

    // MARK: Task objects

    /// The original's task object (`id`, `name`, `priority`, `status`, `task_type`, `created_at`,
    /// `started_at`, `completed_at`, `wait_time`, `execution_time`, `estimated_time`, `result`,
    /// `error`; times in seconds, dates in ISO 8601) and ours beside it (`state`, `tool`, `level`,
    /// `preemptions`, `arguments`).
    private func object(_ record: TaskRecord, _ info: TaskInfo?) -> JSONValue {
        func date(_ at: Duration?) -> JSONValue {
            guard let at else { return .null }
            let seconds = (at - origin).milliseconds / 1000
            return .string(wallOrigin.addingTimeInterval(seconds).formatted(Self.iso8601))
        }
        let status: String = record.state == .waiting ? "queued" : record.state.rawValue
        return [
            "id": .string(record.id.description),
            "name": .string(info?.name ?? record.name),
            "priority": .int(Int64(record.priority)),
            "status": .string(status),
            "task_type": .string(info?.taskType ?? "tool"),
            "created_at": date(record.submittedAt),
            "started_at": date(record.startedAt),
            "completed_at": date(record.endedAt),
            "wait_time": .double(record.waitTime.milliseconds / 1000),
            "execution_time": record.startedAt == nil ? .null : .double(record.runTime.milliseconds / 1000),
            "estimated_time": info?.estimatedTime.map(JSONValue.double) ?? .null,
            "result": record.result.map(JSONValue.string) ?? .null,
            "error": record.error.map(JSONValue.string) ?? .null,
            "state": .string(record.state.rawValue),
            "tool": .string(record.name),
            "level": .int(Int64(record.level)),
            "preemptions": .int(Int64(record.preemptions)),
            "arguments": record.detail.map(JSONValue.string) ?? .null,
        ]
    }

    private static let iso8601 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
