import Foundation
import Testing
import JSON
@testable import Tools

@Suite struct UnknownToolTests {
    @Test func unknownToolByNameIsAResult() {
        let catalog = ToolCatalog(tools: [BuiltinTools.declaration("now")!])
        let result = ToolRunner.unknownTool("nwo", known: catalog.tools.map(\.name))
        #expect(result.outcome == .invalidArguments)
        #expect(result.error == "there is no tool named 'nwo'. Did you mean 'now'? Available tools: now")
    }

    @Test func unknownToolSuggestsAName() {
        let result = ToolRunner.unknownTool("get_wether", known: ["get_weather", "now"])
        #expect(result.error == "there is no tool named 'get_wether'. Did you mean 'get_weather'? Available tools: get_weather, now")
    }
}
