import Foundation
import Testing
import JSON
@testable import Tools

/// Tool files that once loaded into something that traps later, or that are too big to read.
@Suite struct ToolLoaderLimitsTests {
    @Test func aLengthKeywordBeyondAnyRealSizeIsAnErrorWithItsPlace() {
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("bin/run.sh", "#!/bin/sh\n", executable: true)
        folder.write("a.json", """
            {"name": "a", "description": "d", "exec": ["bin/run.sh"],
             "parameters": {"type": "object", "properties": {"s": {"type": "string", "minLength": 1e300}}}}
            """)
        let check = checkTools(folders: [ToolFolder(folder.path)])
        #expect(check.exitCode == 2)
        #expect(check.report.contains("\(folder.path)/a.json:2:87: tool 'a': 'parameters' is not a valid JSON Schema"), "\(check.report)")
        #expect(check.report.contains("'minLength'"))
    }

    @Test func aTimeoutTooLongForADurationIsAnErrorWithItsPlace() {
        // Loaded, `"timeout": 1e300` trapped in `Duration.seconds` when the tool was called.
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("bin/run.sh", "#!/bin/sh\n", executable: true)
        folder.write("a.json", #"{"name": "a", "description": "d", "exec": ["bin/run.sh"], "timeout": 1e300}"#)
        folder.write("b.json", #"{"name": "b", "description": "d", "exec": ["bin/run.sh"], "estimated_time": 31536001}"#)
        folder.write("c.json", #"{"name": "c", "description": "d", "exec": ["bin/run.sh"], "timeout": 31536000}"#)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        #expect(catalog.tools.map(\.name) == ["c"])
        #expect(catalog.diagnostics.map(\.description) == [
            "\(folder.path)/a.json:1:70: tool 'a': 'timeout' must be at most 31536000 seconds (a year), got 1e+300",
            "\(folder.path)/b.json:1:77: tool 'b': 'estimated_time' must be at most 31536000 seconds (a year), got 31536001",
        ])
        for tool in catalog.tools { _ = tool.timeout.map(Duration.seconds) }
    }

    @Test func aFileLargerThanOneMiBIsADiagnosticAndTheOthersStillLoad() {
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("bin/run.sh", "#!/bin/sh\n", executable: true)
        let long = String(repeating: "x", count: ToolLimits.maxFileBytes)
        folder.write("big.json", #"{"name": "big", "description": "\#(long)", "exec": ["bin/run.sh"]}"#)
        folder.write("small.json", #"{"name": "small", "description": "d", "exec": ["bin/run.sh"]}"#)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        #expect(catalog.tools.map(\.name) == ["small"])
        #expect(catalog.diagnostics.map(\.description) == [
            "\(folder.path)/big.json: the file is larger than 1 MiB, the limit for a tool file; it is skipped"
        ])
    }
}
