import Scheduler

/// What the model cost over some calls, one turn's or a whole session's: calls, tokens by kind, time
/// in the model and in tools, and the times to first token of recent calls.
///
/// Tokens are summed over the calls whose server reported them. A kind that no call reported is nil
/// (unknown), never zero; a call without any usage counts in `callsWithoutUsage`, so a reader can
/// tell that the sums leave it out. Sums saturate at `Int.max` instead of trapping: each count is at
/// most `StreamLimits.maxTokenCount` (2^53), and 1 024 calls at that limit already reach 2^63.
public struct ModelUsage: Sendable, Equatable {
    /// Calls whose time to first token the percentiles cover (the most recent ones).
    public static let firstTokenWindow = 1_000

    /// Answered model calls.
    public private(set) var calls = 0
    /// Answered calls whose server sent no usage.
    public private(set) var callsWithoutUsage = 0
    public private(set) var inputTokens: Int?
    /// The part of the input the server read from its cache.
    public private(set) var cachedInputTokens: Int?
    public private(set) var outputTokens: Int?
    /// The part of the output spent on reasoning.
    public private(set) var reasoningTokens: Int?
    /// Time waiting for the model's answers, request to last byte, summed over calls.
    public private(set) var modelTime: Duration = .zero
    /// Time waiting for tools, each step from its first call's submission to its last result.
    public private(set) var toolTime: Duration = .zero
    /// Times to first token of the most recent calls that had one, oldest first.
    public private(set) var firstTokenTimes: [Duration] = []

    public init() {}

    /// Counts one answered call.
    /// - Complexity: O(``firstTokenWindow``) once the window is full, O(1) before.
    public mutating func record(_ call: ModelCall) {
        calls += 1
        modelTime += call.duration
        if let first = call.timeToFirstToken {
            if firstTokenTimes.count >= Self.firstTokenWindow { firstTokenTimes.removeFirst() }
            firstTokenTimes.append(first)
        }
        guard let usage = call.usage else {
            callsWithoutUsage += 1
            return
        }
        Self.add(usage.promptTokens, to: &inputTokens)
        Self.add(usage.cachedPromptTokens, to: &cachedInputTokens)
        Self.add(usage.completionTokens, to: &outputTokens)
        Self.add(usage.reasoningTokens, to: &reasoningTokens)
    }

    /// Adds the time of one step's tools.
    public mutating func recordToolTime(_ time: Duration) {
        toolTime += time
    }

    /// The `q` percentile (nearest rank) of the recorded times to first token; nil before any.
    public func timeToFirstToken(percentile q: Double) -> Duration? {
        NearestRank.percentile(firstTokenTimes.sorted(), q)
    }

    private static func add(_ count: Int?, to sum: inout Int?) {
        guard let count else { return }
        let (added, overflow) = (sum ?? 0).addingReportingOverflow(count)
        sum = overflow ? .max : added
    }
}
