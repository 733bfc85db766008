import Foundation
import Testing
import JSON
@testable import Tools

/// Writes tool files into a temp folder and loads it.
private func load(_ files: [String: String], scripts: [String] = []) -> (ToolCatalog, TempFolder) {
    let folder = TempFolder()
    for script in scripts { folder.write(script, "#!/bin/sh\necho ok\n", executable: true) }
    for (name, text) in files { folder.write(name, text) }
    return (ToolLoader.load(folders: [ToolFolder(folder.path)]), folder)
}

private let validTool = #"{"name": "ok_tool", "description": "d", "parameters": {"type": "object"}, "exec": ["bin/run.sh"]}"#

@Suite struct ToolLoaderTests {
    @Test func loadsOneToolAndToolsArraysWithDefaultsAndResolvedPaths() throws {
        let (catalog, folder) = load([
            "a.json": validTool,
            "b.json": #"""
            {"tools": [
              {"name": "fetch", "description": "f", "http": {"url": "http://127.0.0.1/{q}"}, "priority": 0, "timeout": 5},
              {"name": "files", "builtin": "list_dir"}
            ]}
            """#,
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        #expect(catalog.diagnostics.isEmpty, "\(catalog.diagnostics)")
        #expect(catalog.tools.map(\.name) == ["ok_tool", "fetch", "files"])
        let ok = try #require(catalog.tool(named: "ok_tool"))
        #expect(ok.runner == .exec([folder.path + "/bin/run.sh"]))
        #expect(ok.priority == 1 && ok.preemptible && !ok.confirm)
        let fetch = try #require(catalog.tool(named: "fetch"))
        #expect(fetch.priority == 0 && fetch.timeout == 5 && !fetch.preemptible)
        #expect(fetch.source == SourceLocation(file: folder.path + "/b.json", position: SourcePosition(line: 2, column: 3)))
        let files = try #require(catalog.tool(named: "files"))
        #expect(files.description == BuiltinTools.definition(named: "list_dir")!.description)
        #expect(files.parameters == BuiltinTools.definition(named: "list_dir")!.parameters)
    }

    @Test func invalidJSONIsReportedWithLineAndColumnAndOtherFilesStillLoad() {
        let (catalog, folder) = load([
            "bad.json": "{\"name\": \"a\", \"description\": \"d\",\n \"parameters\": {\"type\": \"object\"},\n \"exec\": [\"x.sh\"] \"priority\": 1}",
            "good.json": validTool,
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        #expect(catalog.tools.map(\.name) == ["ok_tool"])
        #expect(catalog.diagnostics.map(\.description) == ["\(folder.path)/bad.json:3:19: invalid JSON: expected ',' or '}'"])
    }

    @Test func missingAndIllTypedFields() {
        let (catalog, folder) = load([
            "a.json": #"{"description": "d", "exec": ["bin/run.sh"]}"#,
            "b.json": "{\"name\": \"b\",\n \"exec\": [\"bin/run.sh\"]}",
            "c.json": "{\"name\": \"c\", \"description\": \"d\", \"exec\": [\"bin/run.sh\"],\n  \"priority\": \"high\", \"confirm\": 1}",
            "d.json": #"{"name": 7, "description": "d", "exec": ["bin/run.sh"]}"#,
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        let lines = catalog.diagnostics.map(\.description)
        #expect(catalog.tools.isEmpty)
        #expect(lines.contains("\(folder.path)/a.json:1:1: missing required field 'name'"))
        #expect(lines.contains("\(folder.path)/b.json:1:1: tool 'b': missing required field 'description'"))
        #expect(lines.contains("\(folder.path)/c.json:2:15: tool 'c': 'priority' must be an integer >= 0, got \"high\""))
        #expect(lines.contains("\(folder.path)/c.json:2:34: tool 'c': 'confirm' must be true or false, got 1"))
        #expect(lines.contains("\(folder.path)/d.json:1:10: 'name' must be a string, got integer"))
    }

    @Test func unknownKeyIsAWarningWithDidYouMeanAndTheToolStillLoads() {
        let (catalog, folder) = load([
            "a.json": "{\"name\": \"a\", \"description\": \"d\", \"exec\": [\"bin/run.sh\"],\n   \"timout\": 3}"
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        #expect(catalog.tools.map(\.name) == ["a"])
        #expect(catalog.diagnostics.map(\.description) == [
            "\(folder.path)/a.json:2:4: warning: unknown key 'timout' in tool 'a' (did you mean 'timeout'?); it is ignored"
        ])
        #expect(catalog.errors.isEmpty)
    }

    @Test func duplicateNamesNameBothFiles() {
        let (catalog, folder) = load(["1.json": validTool, "2.json": validTool], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        #expect(catalog.tools.count == 1)
        #expect(catalog.diagnostics.map(\.description) == [
            "\(folder.path)/2.json:1:1: duplicate tool name 'ok_tool': already declared at \(folder.path)/1.json:1:1; this one is ignored"
        ])
    }

    @Test func parametersMustBeAJSONSchemaObject() {
        let (catalog, folder) = load([
            "a.json": #"{"name": "a", "description": "d", "exec": ["bin/run.sh"], "parameters": [1]}"#,
            "b.json": "{\"name\": \"b\", \"description\": \"d\", \"exec\": [\"bin/run.sh\"],\n \"parameters\": {\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"strnig\"}}}}",
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        let lines = catalog.diagnostics.map(\.description)
        #expect(catalog.tools.isEmpty)
        #expect(lines.contains("\(folder.path)/a.json:1:73: tool 'a': 'parameters' is not a valid JSON Schema: 'parameters' must be a JSON Schema object, got array"))
        #expect(lines.contains { $0.hasPrefix("\(folder.path)/b.json:2:64: tool 'b': 'parameters' is not a valid JSON Schema: schema at /properties/n: 'type' must be one of") })
    }

    @Test func missingOrNonExecutableProgram() {
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("bin/plain.txt", "not a program")
        folder.write("a.json", #"{"name": "a", "description": "d", "exec": ["bin/nope.sh"]}"#)
        folder.write("b.json", #"{"name": "b", "description": "d", "exec": ["bin/plain.txt"]}"#)
        folder.write("c.json", #"{"name": "c", "description": "d", "exec": ["no-such-program-anywhere"]}"#)
        let lines = ToolLoader.load(folders: [ToolFolder(folder.path)]).diagnostics.map(\.description)
        #expect(lines.contains("\(folder.path)/a.json:1:44: tool 'a': program 'bin/nope.sh' does not exist (looked in \(folder.path))"))
        #expect(lines.contains("\(folder.path)/b.json:1:44: tool 'b': program '\(folder.path)/bin/plain.txt' cannot be executed (chmod +x it?)"))
        #expect(lines.contains { $0.hasPrefix("\(folder.path)/c.json:1:44: tool 'c': program 'no-such-program-anywhere' does not exist") })
    }

    @Test func noRunnerOrTwoRunners() {
        let (catalog, folder) = load([
            "a.json": #"{"name": "a", "description": "d"}"#,
            "b.json": #"{"name": "b", "description": "d", "exec": ["bin/run.sh"], "builtin": "now"}"#,
            "c.json": #"{"name": "c", "builtin": "read_flie"}"#,
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        let lines = catalog.diagnostics.map(\.description)
        #expect(lines.contains("\(folder.path)/a.json:1:1: tool 'a' has no runner: add exactly one of 'exec', 'http' or 'builtin'"))
        #expect(lines.contains("\(folder.path)/b.json:1:59: tool 'b' has more than one runner (exec, builtin); keep exactly one"))
        #expect(lines.contains { $0.hasPrefix("\(folder.path)/c.json:1:26: tool 'c': unknown builtin 'read_flie' (did you mean 'read_file'?)") })
    }

    @Test func fileThatIsNotAnObjectAndMissingFolder() {
        let (catalog, folder) = load(["a.json": "[1, 2]"])
        defer { folder.remove() }
        #expect(catalog.diagnostics.map(\.description) == [
            "\(folder.path)/a.json:1:1: a tool file must hold a JSON object (one tool, or {\"tools\": [...]}), got array"
        ])
        let missing = ToolLoader.load(folders: [ToolFolder(folder.path + "/nope")])
        #expect(missing.diagnostics.map(\.description) == ["\(folder.path)/nope: tool folder does not exist or is not a folder"])
        #expect(ToolLoader.load(folders: [ToolFolder(folder.path + "/nope", mustExist: false)]).diagnostics.isEmpty)
    }

    @Test func checkToolsExitsTwoOnErrorsAndZeroOnWarningsAlone() {
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("bin/run.sh", "#!/bin/sh\n", executable: true)
        folder.write("a.json", #"{"name": "a", "description": "d", "exec": ["bin/run.sh"], "colour": 1}"#)
        let clean = checkTools(folders: [ToolFolder(folder.path)])
        #expect(clean.exitCode == 0)
        #expect(clean.report.contains("warning: unknown key 'colour'"))
        #expect(clean.report.hasSuffix("1 tool loaded, 0 errors, 1 warning"))

        folder.write("b.json", "{")
        let broken = checkTools(folders: [ToolFolder(folder.path)])
        #expect(broken.exitCode == 2)
        #expect(broken.report.contains("\(folder.path)/b.json:1:2: invalid JSON: expected a string key, got end of input"))
    }

    @Test func defaultFoldersFollowXDGAndAppendExtras() {
        let xdg = ToolLoader.folders(extra: ["more"], environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"])
        #expect(xdg == [ToolFolder("/x/agent-repl/tools.d", mustExist: false), ToolFolder("more"), ToolFolder("tools.d", mustExist: false, isProject: true)])
        let home = ToolLoader.folders(environment: ["HOME": "/h"])
        #expect(home.map(\.path) == ["/h/.config/agent-repl/tools.d", "tools.d"])
        let untrusted = ToolLoader.folders(extra: ["more"], environment: ["XDG_CONFIG_HOME": "/x"], project: false)
        #expect(untrusted.map(\.path) == ["/x/agent-repl/tools.d", "more"], "an untrusted folder's tools.d is not read")
    }

    @Test func listingShowsNameRunnerAndSource() {
        let (catalog, folder) = load(["a.json": validTool, "b.json": #"{"name": "clock", "builtin": "now"}"#], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        #expect(catalog.formattedList() == """
            ok_tool  exec     \(folder.path)/a.json:1
            clock    builtin  \(folder.path)/b.json:1
            """)
    }

    @Test func toolNameRules() throws {
        let accepted = ["a", "get_weather", "Tool-2", "_x", "9", String(repeating: "n", count: 64)]
        let rejected = ["", "has space", "dot.name", "slash/name", "café", "emoji😀", "tab\tname", String(repeating: "n", count: 65)]
        var files: [String: String] = [:]
        for (i, name) in (accepted + rejected).enumerated() {
            files["\(i).json"] = JSONValue.object(["name": .string(name), "description": "d", "exec": ["bin/run.sh"]]).jsonString
        }
        let (catalog, folder) = load(files, scripts: ["bin/run.sh"])
        defer { folder.remove() }
        #expect(catalog.tools.map(\.name).sorted() == accepted.sorted())
        let messages = catalog.errors.map(\.message)
        for name in rejected {
            #expect(messages.contains("tool name '\(name)' must be 1 to 64 letters, digits, '_' or '-'"), "\(name.debugDescription) was not refused")
        }
        #expect(messages.count == rejected.count, "\(messages)")
    }

    @Test func estimatedTimeTimeoutAndPassEnvAreRead() throws {
        let (catalog, folder) = load([
            "a.json": #"{"name": "a", "description": "d", "exec": ["bin/run.sh"], "estimated_time": 1.5, "timeout": 2, "pass_env": ["MY_TOKEN", "DB_PASSWORD"]}"#,
            "b.json": #"{"name": "b", "description": "d", "exec": ["bin/run.sh"], "estimated_time": 0}"#,
            "c.json": #"{"name": "c", "description": "d", "exec": ["bin/run.sh"], "estimated_time": "soon"}"#,
            "d.json": #"{"name": "d", "description": "d", "exec": ["bin/run.sh"], "pass_env": "MY_TOKEN"}"#,
            "e.json": #"{"name": "e", "description": "d", "exec": ["bin/run.sh"], "pass_env": ["MY_TOKEN", 3]}"#,
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        let a = try #require(catalog.tool(named: "a"))
        #expect(a.estimatedTime == 1.5)
        #expect(a.timeout == 2)
        #expect(a.passEnv == ["MY_TOKEN", "DB_PASSWORD"])
        #expect(catalog.tools.map(\.name) == ["a"])
        let lines = catalog.diagnostics.map(\.description)
        #expect(lines.contains("\(folder.path)/b.json:1:77: tool 'b': 'estimated_time' must be a positive number of seconds, got 0"))
        #expect(lines.contains("\(folder.path)/c.json:1:77: tool 'c': 'estimated_time' must be a positive number of seconds, got \"soon\""))
        #expect(lines.contains("\(folder.path)/d.json:1:71: tool 'd': 'pass_env' must be an array of variable names"))
        #expect(lines.contains("\(folder.path)/e.json:1:71: tool 'e': 'pass_env' must be an array of variable names"))
    }

    @Test func cpuUseIsReadWhenDeclared() throws {
        let (catalog, folder) = load([
            "a.json": #"{"name": "a", "description": "d", "exec": ["bin/run.sh"], "cpu": true}"#,
            "b.json": #"{"name": "b", "description": "d", "exec": ["bin/run.sh"], "cpu": false}"#,
            "c.json": #"{"name": "c", "description": "d", "exec": ["bin/run.sh"]}"#,
            "d.json": #"{"name": "d", "description": "d", "exec": ["bin/run.sh"], "cpu": "lots"}"#,
        ], scripts: ["bin/run.sh"])
        defer { folder.remove() }
        #expect(catalog.tool(named: "a")?.cpu == true)
        #expect(catalog.tool(named: "b")?.cpu == false)
        #expect(try #require(catalog.tool(named: "c")).cpu == nil, "not declared: measured by the scheduler")
        #expect(catalog.tool(named: "d") == nil)
        #expect(catalog.diagnostics.map(\.description).contains { $0.hasSuffix("tool 'd': 'cpu' must be true or false, got \"lots\"") })
    }

    /// A relative `cwd` is the declaring file's folder joined with it, whatever the loader's own folder.
    @Test func relativeWorkingFolderResolvesAgainstTheFilesFolder() async throws {
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("tools/pwd.sh", "#!/bin/sh\npwd\n", executable: true)
        try FileManager.default.createDirectory(atPath: folder.path + "/tools/work/inner", withIntermediateDirectories: true)
        folder.write("tools/a.json", #"{"name": "a", "description": "d", "exec": ["pwd.sh"], "cwd": "work/inner"}"#)
        folder.write("tools/b.json", #"{"name": "b", "description": "d", "exec": ["pwd.sh"], "cwd": ".."}"#)
        folder.write("tools/c.json", #"{"name": "c", "description": "d", "exec": ["pwd.sh"], "cwd": "missing"}"#)
        #expect(FileManager.default.currentDirectoryPath != folder.path + "/tools")
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path + "/tools")])
        let a = try #require(catalog.tool(named: "a")), b = try #require(catalog.tool(named: "b"))
        #expect(a.cwd == folder.path + "/tools/work/inner")
        #expect(b.cwd == folder.path)
        #expect(await ToolRunner().run(a, arguments: "{}").output == folder.path + "/tools/work/inner\n")
        #expect(catalog.tool(named: "c") == nil)
        #expect(catalog.diagnostics.map(\.description) == [
            "\(folder.path)/tools/c.json:1:62: tool 'c': working folder 'missing' does not exist (resolved to \(folder.path)/tools/missing)"
        ])
    }

    /// A bare program name is looked up in the declaring file's folder first, then in PATH.
    @Test func bareProgramNamesAreLookedUpInTheFilesFolderThenPath() throws {
        let folder = TempFolder()
        defer { folder.remove() }
        folder.write("bin/on_path", "#!/bin/sh\n", executable: true)
        folder.write("bin/both", "#!/bin/sh\n", executable: true)
        folder.write("tools/both", "#!/bin/sh\n", executable: true)
        folder.write("tools/local", "#!/bin/sh\n", executable: true)
        folder.write("tools/a.json", #"{"tools": [{"name": "local", "description": "d", "exec": ["local", "--x"]}, {"name": "on_path", "description": "d", "exec": ["on_path"]}, {"name": "both", "description": "d", "exec": ["both"]}, {"name": "nowhere", "description": "d", "exec": ["nowhere"]}]}"#)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path + "/tools")], environment: ["PATH": "/nonexistent:" + folder.path + "/bin"])
        #expect(catalog.tool(named: "local")?.runner == .exec([folder.path + "/tools/local", "--x"]))
        #expect(catalog.tool(named: "on_path")?.runner == .exec([folder.path + "/bin/on_path"]))
        #expect(catalog.tool(named: "both")?.runner == .exec([folder.path + "/tools/both"]), "the file's folder comes before PATH")
        #expect(catalog.tool(named: "nowhere") == nil)
        #expect(catalog.errors.map(\.message) == ["tool 'nowhere': program 'nowhere' does not exist (looked in \(folder.path)/tools and PATH)"])
    }

    @Test func editDistanceSuggestions() {
        #expect(editDistance("timout", "timeout") == 1)
        #expect(didYouMean("descripton", ["description", "name"]) == "description")
        #expect(didYouMean("zzzz", ["description", "name"]) == nil)
    }
}
