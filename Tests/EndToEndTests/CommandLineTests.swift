import Foundation
import Testing

/// The binary's flags, exit codes and non-interactive modes.
@Suite struct CommandLineTests {
    @Test func versionPrintsAndExitsZero() async throws {
        let result = try await AgentProcess().run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: ".").count == 3)
    }

    @Test func badUsageExitsWithTwoAndAMessage() async throws {
        let result = try await AgentProcess().run(["--no-such-flag"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--no-such-flag"))
        let badURL = try await AgentProcess().run(["--base-url", "ftp://example", "-p", "hi"])
        #expect(badURL.status == 2)
        #expect(badURL.stderr.contains("--base-url must be an http or https URL"))
    }

    @Test func oneShotWithoutKeyUsesTheDemoModel() async throws {
        let result = try await AgentProcess().run(["-p", "héllo 🌍"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("offline demo model"))
        #expect(result.stdout.contains("héllo 🌍"))
        // The demo model reports its words as tokens, so the footer shows them offline too.
        let footer = try #require(result.stderr.split(separator: "\n").last.map(String.init))
        #expect(try #/· \d+ in · \d+ out · \d+\.\d s/#.wholeMatch(in: footer) != nil, "\(result.stderr)")
        #expect(!result.stdout.contains(" out · "))
    }

    @Test func pipedLinesRunInOrder() async throws {
        let result = try await AgentProcess().run([], stdin: "first prompt\n/model other-model\n/model\n/bogus\nsecond prompt\n")
        #expect(result.status == 0)
        let first = try #require(result.stdout.range(of: "first prompt"))
        let switched = try #require(result.stdout.range(of: "Model set to other-model."))
        let shown = try #require(result.stdout.range(of: "Model: other-model"))
        let second = try #require(result.stdout.range(of: "second prompt"))
        #expect(first.lowerBound < switched.lowerBound)
        #expect(switched.lowerBound < shown.lowerBound)
        #expect(shown.lowerBound < second.lowerBound)
        #expect(result.stderr.contains("Unknown command /bogus. Type /help for the list."))
        #expect(!result.stdout.contains("agent-repl 0."), "no banner without a terminal")
    }
}
