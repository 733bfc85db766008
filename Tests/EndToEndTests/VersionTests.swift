import Testing
@testable import AgentRuntime

@Test func versionIsSemantic() {
    #expect(AgentRuntimeVersion.string.split(separator: ".").count == 3)
}
