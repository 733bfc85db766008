/// Asks whether a `confirm: true` tool may run. The front end implements it (a y/N question on the
/// terminal); the agent asks before it submits the call, so a waiting question holds no worker and
/// uses none of the tool's timeout. A `false` reaches the model as "the user declined to run this tool".
public protocol ConfirmationProvider: Sendable {
    func confirm(tool: String, arguments: String) async -> Bool
}

/// Every tool may run (`--yes`).
public struct AutoApproval: ConfirmationProvider {
    public init() {}
    public func confirm(tool: String, arguments: String) async -> Bool { true }
}

/// No one to ask (no terminal): every confirmation is refused.
public struct RefusingConfirmation: ConfirmationProvider {
    public init() {}
    public func confirm(tool: String, arguments: String) async -> Bool { false }
}
