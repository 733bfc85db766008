import Foundation

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms until it holds (for what the session does not announce: a job's end,
/// a process's exit); throws after `limit`, a guard against hanging, not a time budget.
func eventually(_ what: String, limit: Duration = .seconds(60), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        if ContinuousClock.now > deadline { throw TestFailure("never happened: \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
