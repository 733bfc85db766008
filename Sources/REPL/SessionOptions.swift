import Foundation
import Scheduler
import Store

/// How a session is set up: what the command line (or a test) asked for.
public struct SessionOptions: Sendable {
    /// The model name sent with each request (`/model` changes it).
    public var modelName: String
    /// Said after the model in the banner, e.g. how it was found ("the local server found on port 11434").
    public var modelNote: String?
    /// Model calls per turn before giving up.
    public var maxSteps = 12
    public var scheduler = SchedulerConfiguration()
    /// Run tools declared with `"confirm": true` without asking (`--yes`).
    public var autoApprove = false
    /// The environment tools start from (secrets are filtered out per tool).
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// The folder builtin file tools are confined to.
    public var workingFolder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    /// Measures streamed text from the socket to the screen (`--debug-timing`), when set.
    public var timing: ChunkTiming?
    /// Times turns, model calls and tools for the footer and `/stats` (tests pass a manual clock).
    public var clock: any SchedulerClock = ContinuousSchedulerClock()
    /// Starts each tool call as soon as the answer reports it whole (`Agent.Configuration.dispatchesEarly`).
    public var dispatchesEarly = true

    /// Where turns, messages and tool tasks are recorded; nil records nothing (`--no-log`, `logs off`).
    public var store: SessionStore?
    /// The endpoint's API as sessions record it ("chat", "responses", "demo").
    public var apiName = "chat"
    /// An earlier session to continue at start.
    public var resume: ResumeRequest?

    public init(modelName: String) {
        self.modelName = modelName
    }
}

/// Which earlier session to continue.
public enum ResumeRequest: Sendable, Equatable {
    /// The last session started in the working folder (`--continue`).
    case lastInFolder
    case session(Int64)
}
