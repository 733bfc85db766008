import Foundation
import JSON

/// The tools loaded from some folders, and everything wrong with their files.
public struct ToolCatalog: Sendable {
    /// Valid tools, in folder order then file-name order then declaration order.
    public var tools: [ToolDeclaration]
    public var diagnostics: [ToolDiagnostic]
    /// The MCP servers declared (`{"mcp": ...}`); their tools join `tools` once they run.
    public var mcpServers: [MCPServerDeclaration]

    public init(tools: [ToolDeclaration] = [], diagnostics: [ToolDiagnostic] = [], mcpServers: [MCPServerDeclaration] = []) {
        self.tools = tools
        self.diagnostics = diagnostics
        self.mcpServers = mcpServers
    }

    public func tool(named name: String) -> ToolDeclaration? {
        tools.first { $0.name == name }
    }

    /// The Chat Completions `tools` array for these tools.

    public var errors: [ToolDiagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [ToolDiagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// The `/tools` listing: one line per tool, `name  runner  source-file:line`, names padded.
    public func formattedList() -> String {
        if tools.isEmpty { return "no tools loaded" }
        let nameWidth = tools.map(\.name.count).max() ?? 0
        return tools.map { tool in
            let name = tool.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let runner = tool.runner.kind.padding(toLength: 7, withPad: " ", startingAt: 0)
            let source = tool.source.map { loc in loc.position.map { "\(loc.file):\($0.line)" } ?? loc.file } ?? "(built in)"
            return "\(name)  \(runner)  \(source)"
        }.joined(separator: "\n")
    }
}

/// A folder to read tools from. Default folders may be absent; a folder the user named must exist.
public struct ToolFolder: Sendable, Hashable {
    /// The path as shown in messages (relative paths stay relative).
    public var path: String
    public var mustExist: Bool
    /// The working folder's own `./tools.d`: its tools never shadow the user's.
    public var isProject: Bool

    public init(_ path: String, mustExist: Bool = true, isProject: Bool = false) {
        self.path = path
        self.mustExist = mustExist
        self.isProject = isProject
    }
}

/// Reads `tools.d` folders: every `*.json` file in name order, each holding one tool object or
/// `{"tools": [...]}`. Bad files and bad tools are reported and skipped; the rest load.
public enum ToolLoader {

    /// `$XDG_CONFIG_HOME/agent-repl/tools.d` (falling back to `~/.config`), then the extra folders
    /// in the order given, then, when `project` (the working folder is trusted), `./tools.d`, last
    /// so that none of its tools shadows one of the user's. Duplicate folders are read once.
    public static func folders(
        extra: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        project: Bool = true
    ) -> [ToolFolder] {
        var result = [ToolFolder((FolderTrust.configFolder(environment: environment) as NSString).appendingPathComponent("tools.d"), mustExist: false)]
        result += extra.map { ToolFolder($0, mustExist: true) }
        if project { result.append(ToolFolder("tools.d", mustExist: false, isProject: true)) }

        var seen = Set<String>()
        return result.filter { seen.insert(canonical($0.path)).inserted }
    }

    /// Loads the default folders plus `extra` (the `--tools-dir` values).
    public static func load(extraFolders: [String], environment: [String: String] = ProcessInfo.processInfo.environment, project: Bool = true) -> ToolCatalog {
        load(folders: folders(extra: extraFolders, environment: environment, project: project), environment: environment)
    }

    /// Loads exactly these folders.
    public static func load(folders: [ToolFolder], environment: [String: String] = ProcessInfo.processInfo.environment) -> ToolCatalog {
        var catalog = ToolCatalog()
        var declaredAt: [String: SourceLocation] = [:]
        var projectNames = Set<String>()
        let fm = FileManager.default
        for folder in folders {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                if folder.mustExist || fm.fileExists(atPath: folder.path) {
                    catalog.diagnostics.append(ToolDiagnostic(.error, SourceLocation(file: folder.path), "tool folder does not exist or is not a folder"))
                }
                continue
            }
            let names: [String]
            do {
                names = try fm.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
            } catch {
                catalog.diagnostics.append(ToolDiagnostic(.error, SourceLocation(file: folder.path), "cannot read the folder: \(error.localizedDescription)"))
                continue
            }
            for name in names {
                let file = (folder.path as NSString).appendingPathComponent(name)
                let (tools, servers, diagnostics) = loadEntries(file, environment: environment)
                catalog.diagnostics += diagnostics
                for server in servers {
                    if let first = catalog.mcpServers.first(where: { $0.name == server.name }) {
                        catalog.diagnostics.append(ToolDiagnostic(
                            .error, server.source ?? SourceLocation(file: file),
                            "duplicate MCP server name '\(server.name)': already declared at \(first.source ?? SourceLocation(file: "?")); this one is ignored"))
                        continue
                    }
                    catalog.mcpServers.append(server)
                }
                for tool in tools {
                    if let first = declaredAt[tool.name], folder.isProject, !projectNames.contains(tool.name) {
                        catalog.diagnostics.append(ToolDiagnostic(
                            .warning, tool.source ?? SourceLocation(file: file),
                            "the project's tool '\(tool.name)' is skipped: a project's tool never shadows your own, declared at \(first)"))
                        continue
                    }
                    if let first = declaredAt[tool.name] {
                        catalog.diagnostics.append(ToolDiagnostic(
                            .error, tool.source ?? SourceLocation(file: file),
                            "duplicate tool name '\(tool.name)': already declared at \(first); this one is ignored"))
                        continue
                    }
                    declaredAt[tool.name] = tool.source ?? SourceLocation(file: file)
                    if folder.isProject { projectNames.insert(tool.name) }
                    catalog.tools.append(tool)
                }
            }
        }
        return catalog
    }

    /// One file's tools and problems. `displayPath` names the file in messages.
    public static func loadFile(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> ([ToolDeclaration], [ToolDiagnostic]) {
        let (tools, _, diagnostics) = loadEntries(path, environment: environment)
        return (tools, diagnostics)
    }

    /// One file's tools, MCP servers and problems.
    static func loadEntries(_ path: String, environment: [String: String]) -> ([ToolDeclaration], [MCPServerDeclaration], [ToolDiagnostic]) {
        let fileLocation = SourceLocation(file: path)
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: ToolLimits.maxFileBytes + 1) ?? Data()
        else {
            return ([], [], [ToolDiagnostic(.error, fileLocation, "cannot read the file")])
        }
        try? handle.close()
        if data.count > ToolLimits.maxFileBytes {
            let limit = "\(ToolLimits.maxFileBytes >> 20) MiB"
            return ([], [], [ToolDiagnostic(.error, fileLocation, "the file is larger than \(limit), the limit for a tool file; it is skipped")])
        }
        return loadEntries(contents: data, path: path, environment: environment)
    }

    /// One file's tools and problems from the bytes read from `path` (at most `ToolLimits.maxFileBytes`):
    /// `path` names the file in messages, and relative programs and folders resolve against its folder.
    /// The fuzz target calls this directly.
    package static func loadFile(contents data: Data, path: String, environment: [String: String]) -> ([ToolDeclaration], [ToolDiagnostic]) {
        let (tools, _, diagnostics) = loadEntries(contents: data, path: path, environment: environment)
        return (tools, diagnostics)
    }

    /// ``loadFile(contents:path:environment:)`` with the MCP servers the file declares: a file whose
    /// object has an `"mcp"` key declares one server.
    package static func loadEntries(contents data: Data, path: String, environment: [String: String]) -> ([ToolDeclaration], [MCPServerDeclaration], [ToolDiagnostic]) {
        let document: LocatedJSON
        do {
            document = try JSONParser.parse(Array(data))
        } catch {
            return ([], [], [ToolDiagnostic(.error, SourceLocation(file: path, position: error.position), "invalid JSON: \(error.message)")])
        }
        let folder = (absolutePath(path) as NSString).deletingLastPathComponent
        var context = FileContext(file: path, folder: folder, document: document, environment: environment)

        guard let top = document.value.objectValue else {
            context.error("", "a tool file must hold a JSON object (one tool, or {\"tools\": [...]}), got \(SchemaValidator.typeName(document.value))")
            return ([], [], context.diagnostics)
        }
        if top["mcp"] != nil {
            let fileName = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let server = context.parseServer(defaultName: fileName)
            return ([], server.map { [$0] } ?? [], context.diagnostics)
        }
        var tools: [ToolDeclaration] = []
        if let list = top["tools"], top["name"] == nil {
            for key in top.keys.sorted() where key != "tools" {
                context.warning("/" + key, "unknown key '\(key)' next to \"tools\"; it is ignored")
            }
            guard let items = list.arrayValue else {
                context.error("/tools", "'tools' must be an array of tool objects, got \(SchemaValidator.typeName(list))")
                return ([], [], context.diagnostics)
            }
            for index in items.indices {
                if let tool = context.parseTool(at: "/tools/\(index)") { tools.append(tool) }
            }
        } else if let tool = context.parseTool(at: "") {
            tools.append(tool)
        }
        return (tools, [], context.diagnostics)
    }

    static func canonical(_ path: String) -> String {
        (absolutePath(path) as NSString).standardizingPath
    }

    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }
}

/// `agent-repl --check-tools`: every problem of every folder, one per line, then a summary.
/// Exit code 2 when there is any error, 0 otherwise (warnings alone pass).
public func checkTools(folders: [ToolFolder], environment: [String: String] = ProcessInfo.processInfo.environment) -> (report: String, exitCode: Int32) {
    checkTools(catalog: ToolLoader.load(folders: folders, environment: environment))
}

/// The same report for a catalog already loaded (`--check-tools` then starts its MCP servers).
public func checkTools(catalog: ToolCatalog) -> (report: String, exitCode: Int32) {
    var lines = catalog.diagnostics.map(\.description)
    let errors = catalog.errors.count
    let warnings = catalog.warnings.count
    func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
    let servers = catalog.mcpServers.isEmpty ? "" : " and \(plural(catalog.mcpServers.count, "MCP server")) declared"
    lines.append("\(plural(catalog.tools.count, "tool")) loaded\(servers), \(plural(errors, "error")), \(plural(warnings, "warning"))")
    return (lines.joined(separator: "\n"), errors > 0 ? 2 : 0)
}

// MARK: - One file

private struct FileContext {
    let file: String
    let folder: String
    let document: LocatedJSON
    let environment: [String: String]
    var diagnostics: [ToolDiagnostic] = []

    init(file: String, folder: String, document: LocatedJSON, environment: [String: String]) {
        self.file = file
        self.folder = folder
        self.document = document
        self.environment = environment
    }

    static let knownKeys = [
        "name", "description", "parameters", "exec", "http", "builtin", "priority", "estimated_time",
        "timeout", "preemptible", "cpu", "confirm", "env", "cwd", "pass_env",
    ]
    static let httpKeys = ["method", "url", "headers", "body"]
    static let httpMethods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    func location(_ pointer: String) -> SourceLocation {
        SourceLocation(file: file, position: document.position(of: pointer))
    }

    /// Where a member's value starts (better than its key for type errors).
    func valueLocation(_ pointer: String) -> SourceLocation {
        SourceLocation(file: file, position: document.valuePositions[pointer] ?? document.position(of: pointer))
    }

    mutating func error(_ pointer: String, _ message: String, atValue: Bool = false) {
        diagnostics.append(ToolDiagnostic(.error, atValue ? valueLocation(pointer) : location(pointer), message))
    }

    mutating func warning(_ pointer: String, _ message: String) {
        diagnostics.append(ToolDiagnostic(.warning, location(pointer), message))
    }

    /// Parses the tool object at `pointer`, or reports why it cannot be used.
    mutating func parseTool(at pointer: String) -> ToolDeclaration? {
        guard let object = valueAt(pointer)?.objectValue else {
            error(pointer, "a tool must be a JSON object", atValue: true)
            return nil
        }
        let errorsBefore = diagnostics.filter { $0.severity == .error }.count
        let label: String

        // name
        var name = ""
        switch object["name"] {
        case .string(let s)?:
            name = s
            if s.range(of: #"^[A-Za-z0-9_-]{1,64}$"#, options: .regularExpression) == nil {
                error(pointer + "/name", "tool name '\(s)' must be 1 to 64 letters, digits, '_' or '-'", atValue: true)
            }
        case let other?:
            error(pointer + "/name", "'name' must be a string, got \(SchemaValidator.typeName(other))", atValue: true)
        case nil:
            error(pointer, "missing required field 'name'", atValue: true)
        }
        label = name.isEmpty ? "tool" : "tool '\(name)'"

        for key in object.keys.sorted() where !Self.knownKeys.contains(key) {
            let hint = didYouMean(key, Self.knownKeys).map { " (did you mean '\($0)'?)" } ?? ""
            warning(pointer + "/" + escape(key), "unknown key '\(key)' in \(label)\(hint); it is ignored")
        }

        // runner
        let runnerKeys = ["exec", "http", "builtin"].filter { object[$0] != nil }
        var runner: ToolDeclaration.Runner?
        if runnerKeys.isEmpty {
            error(pointer, "\(label) has no runner: add exactly one of 'exec', 'http' or 'builtin'", atValue: true)
        } else if runnerKeys.count > 1 {
            error(pointer + "/" + runnerKeys[1], "\(label) has more than one runner (\(runnerKeys.joined(separator: ", "))); keep exactly one")
        } else {
            runner = parseRunner(runnerKeys[0], object[runnerKeys[0]]!, pointer: pointer + "/" + runnerKeys[0], label: label)
        }

        var builtinDefinition: BuiltinDefinition?
        if case .builtin(let b)? = runner { builtinDefinition = BuiltinTools.definition(named: b) }

        // description
        var description = builtinDefinition?.description ?? ""
        switch object["description"] {
        case .string(let s)?: description = s
        case let other?: error(pointer + "/description", "'description' must be a string, got \(SchemaValidator.typeName(other))", atValue: true)
        case nil where builtinDefinition == nil && runner != nil: error(pointer, "\(label): missing required field 'description'", atValue: true)
        case nil: break
        }

        // parameters
        var parameters = builtinDefinition?.parameters ?? ["type": "object", "properties": [:]]
        if let p = object["parameters"] {
            let problems = SchemaValidator.schemaProblems(p)
            for problem in problems {
                error(pointer + "/parameters" + problem.pointer, "\(label): 'parameters' is not a valid JSON Schema: \(problem.message)", atValue: true)
            }
            if problems.isEmpty { parameters = p }
        }

        let priority = integer(object, "priority", pointer, label, minimum: 0) ?? 1
        let estimated = number(object, "estimated_time", pointer, label)
        let timeout = number(object, "timeout", pointer, label)
        let preemptible = boolean(object, "preemptible", pointer, label)
        let cpu = boolean(object, "cpu", pointer, label)
        let confirm = boolean(object, "confirm", pointer, label) ?? false
        if preemptible == true, let runner, runner.kind != "exec" {
            warning(pointer + "/preemptible", "\(label): only 'exec' tools can be paused; 'preemptible' is ignored")
        }

        let env = strings(object["env"], pointer + "/env", "\(label): 'env'")
        var passEnv: [String] = []
        if let p = object["pass_env"] {
            if let names = p.arrayValue?.compactMap(\.stringValue), names.count == p.arrayValue?.count {
                passEnv = names
            } else {
                error(pointer + "/pass_env", "\(label): 'pass_env' must be an array of variable names", atValue: true)
            }
        }
        var cwd: String?
        if let c = object["cwd"] {
            if let s = c.stringValue {
                let resolved = resolve(s)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue {
                    cwd = resolved
                } else {
                    error(pointer + "/cwd", "\(label): working folder '\(s)' does not exist (resolved to \(resolved))", atValue: true)
                }
            } else {
                error(pointer + "/cwd", "\(label): 'cwd' must be a string", atValue: true)
            }
        }
        if (object["env"] != nil || object["cwd"] != nil), let runner, runner.kind != "exec" {
            warning(pointer, "\(label): 'env' and 'cwd' only apply to 'exec' tools")
        }

        let errorsAfter = diagnostics.filter { $0.severity == .error }.count
        guard errorsAfter == errorsBefore, let runner, !name.isEmpty else { return nil }
        return ToolDeclaration(
            name: name, description: description, parameters: parameters, runner: runner, priority: priority,
            estimatedTime: estimated, timeout: timeout, preemptible: preemptible, cpu: cpu, confirm: confirm, env: env,
            cwd: cwd, passEnv: passEnv, source: valueLocation(pointer))
    }

    mutating func parseRunner(_ key: String, _ value: JSONValue, pointer: String, label: String) -> ToolDeclaration.Runner? {
        switch key {
        case "exec":
            guard let items = value.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) else {
                error(pointer, "\(label): 'exec' must be a non-empty array of strings (program, then arguments)", atValue: true)
                return nil
            }
            var argv = items.map { $0.stringValue! }
            guard let program = resolveProgram(argv[0]) else {
                error(pointer + "/0", "\(label): program '\(argv[0])' does not exist (looked in \(argv[0].contains("/") ? folder : "\(folder) and PATH"))", atValue: true)
                return nil
            }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: program, isDirectory: &isDirectory), isDirectory.boolValue {
                error(pointer + "/0", "\(label): program '\(argv[0])' is a folder, not a program", atValue: true)
                return nil
            }
            guard access(program, X_OK) == 0 else {
                error(pointer + "/0", "\(label): program '\(program)' cannot be executed (chmod +x it?)", atValue: true)
                return nil
            }
            argv[0] = program
            return .exec(argv)

        case "http":
            guard let object = value.objectValue else {
                error(pointer, "\(label): 'http' must be an object {\"method\", \"url\", \"headers\", \"body\"}", atValue: true)
                return nil
            }
            for k in object.keys.sorted() where !Self.httpKeys.contains(k) {
                let hint = didYouMean(k, Self.httpKeys).map { " (did you mean '\($0)'?)" } ?? ""
                warning(pointer + "/" + escape(k), "unknown key '\(k)' in \(label)'s 'http'\(hint); it is ignored")
            }
            var ok = true
            guard let url = object["url"]?.stringValue else {
                error(object["url"] == nil ? pointer : pointer + "/url",
                      object["url"] == nil ? "\(label): 'http' is missing required field 'url'" : "\(label): 'url' must be a string", atValue: true)
                return nil
            }
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                error(pointer + "/url", "\(label): 'url' must start with http:// or https://", atValue: true)
                ok = false
            }
            var method = "GET"
            if let m = object["method"] {
                if let s = m.stringValue, Self.httpMethods.contains(s.uppercased()) {
                    method = s.uppercased()
                } else {
                    error(pointer + "/method", "\(label): 'method' must be one of \(Self.httpMethods.sorted().joined(separator: ", ")), got \(m.jsonString)", atValue: true)
                    ok = false
                }
            }
            var headers: [String: String] = [:]
            if let h = object["headers"] {
                if let members = h.objectValue, members.values.allSatisfy({ $0.stringValue != nil }) {
                    headers = members.mapValues { $0.stringValue! }
                } else {
                    error(pointer + "/headers", "\(label): 'headers' must be an object of strings", atValue: true)
                    ok = false
                }
            }
            return ok ? .http(HTTPRequestTemplate(method: method, url: url, headers: headers, body: object["body"])) : nil

        default:  // builtin
            guard let name = value.stringValue else {
                error(pointer, "\(label): 'builtin' must be the name of a built-in tool", atValue: true)
                return nil
            }
            guard BuiltinTools.definition(named: name) != nil else {
                let names = BuiltinTools.names
                let hint = didYouMean(name, names).map { " (did you mean '\($0)'?)" } ?? ""
                error(pointer, "\(label): unknown builtin '\(name)'\(hint); known: \(names.joined(separator: ", "))", atValue: true)
                return nil
            }
            return .builtin(name)
        }
    }

    static let serverKeys = ["mcp", "name", "priority", "timeout", "max_concurrency", "confirm", "include", "exclude", "pass_env"]
    static let stdioKeys = ["command", "env", "cwd"]
    static let remoteKeys = ["url", "headers"]

    /// Parses the file's `{"mcp": {...}, ...}` object, or reports why the server cannot be used.
    mutating func parseServer(defaultName: String) -> MCPServerDeclaration? {
        guard let object = document.value.objectValue, let mcp = object["mcp"] else { return nil }
        let errorsBefore = diagnostics.filter { $0.severity == .error }.count
        var name = defaultName
        if let n = object["name"] {
            if let s = n.stringValue { name = s } else { error("/name", "'name' must be a string, got \(SchemaValidator.typeName(n))", atValue: true) }
        }
        if name.range(of: #"^[A-Za-z0-9_-]{1,40}$"#, options: .regularExpression) == nil {
            error(object["name"] == nil ? "" : "/name", "MCP server name '\(name)' must be 1 to 40 letters, digits, '_' or '-' (it prefixes the names of its tools)", atValue: true)
        }
        let label = "MCP server '\(name)'"
        for key in object.keys.sorted() where !Self.serverKeys.contains(key) {
            let hint = didYouMean(key, Self.serverKeys).map { " (did you mean '\($0)'?)" } ?? ""
            warning("/" + escape(key), "unknown key '\(key)' in \(label)\(hint); it is ignored")
        }
        var transport: MCPServerDeclaration.Transport?
        if let members = mcp.objectValue {
            let known = Self.stdioKeys + Self.remoteKeys
            for key in members.keys.sorted() where !known.contains(key) {
                let hint = didYouMean(key, known).map { " (did you mean '\($0)'?)" } ?? ""
                warning("/mcp/" + escape(key), "unknown key '\(key)' in \(label)'s 'mcp'\(hint); it is ignored")
            }
            transport = parseServerTransport(members, label: label)
        } else {
            error("/mcp", "\(label): 'mcp' must be an object: {\"command\": [...]} or {\"url\": \"http://...\"}", atValue: true)
        }
        let priority = integer(object, "priority", "", label, minimum: 0) ?? 1
        let timeout = number(object, "timeout", "", label)
        let maxConcurrency = integer(object, "max_concurrency", "", label, minimum: 1) ?? MCPServerDeclaration.defaultMaxConcurrency
        let confirm = boolean(object, "confirm", "", label) ?? false
        let include = object["include"] == nil ? nil : names(object, "include", label)
        let exclude = names(object, "exclude", label) ?? []
        let passEnv = names(object, "pass_env", label) ?? []
        guard diagnostics.filter({ $0.severity == .error }).count == errorsBefore, let transport else { return nil }
        return MCPServerDeclaration(
            name: name, transport: transport, priority: priority, timeout: timeout, maxConcurrency: maxConcurrency, confirm: confirm,
            include: include, exclude: exclude, passEnv: passEnv, source: valueLocation("/mcp"))
    }

    private mutating func parseServerTransport(_ members: [String: JSONValue], label: String) -> MCPServerDeclaration.Transport? {
        switch (members["command"], members["url"]) {
        case (nil, nil):
            error("/mcp", "\(label): 'mcp' needs 'command' (a program and its arguments) or 'url'", atValue: true)
            return nil
        case (.some, .some):
            error("/mcp/url", "\(label): 'mcp' has both 'command' and 'url'; keep one")
            return nil
        case (let command?, nil):
            guard let items = command.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) else {
                error("/mcp/command", "\(label): 'command' must be a non-empty array of strings (program, then arguments)", atValue: true)
                return nil
            }
            var argv = items.compactMap(\.stringValue)
            guard let program = resolveProgram(argv[0]), FileManager.default.isExecutableFile(atPath: program) else {
                error("/mcp/command/0", "\(label): program '\(argv[0])' does not exist or cannot be executed (looked in \(argv[0].contains("/") ? folder : "\(folder) and PATH"))", atValue: true)
                return nil
            }
            argv[0] = program
            let env = strings(members["env"], "/mcp/env", "\(label): 'env'")
            var cwd: String?
            if let c = members["cwd"] {
                var isDirectory: ObjCBool = false
                if let s = c.stringValue, case let resolved = resolve(s), FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue {
                    cwd = resolved
                } else {
                    error("/mcp/cwd", "\(label): 'cwd' must name an existing folder, got \(c.jsonString)", atValue: true)
                }
            }
            if members["headers"] != nil { warning("/mcp/headers", "\(label): 'headers' only applies to a 'url' server; it is ignored") }
            return .stdio(argv: argv, env: env, cwd: cwd)
        case (nil, let url?):
            guard let s = url.stringValue, s.hasPrefix("http://") || s.hasPrefix("https://") else {
                error("/mcp/url", "\(label): 'url' must be a string starting with http:// or https://", atValue: true)
                return nil
            }
            let headers = strings(members["headers"], "/mcp/headers", "\(label): 'headers'")
            if members["env"] != nil || members["cwd"] != nil {
                warning("/mcp", "\(label): 'env' and 'cwd' only apply to a 'command' server; they are ignored")
            }
            return .http(url: s, headers: headers)
        }
    }

    /// An object of strings (`env`, `headers`), or an error at `pointer` and an empty one.
    mutating func strings(_ value: JSONValue?, _ pointer: String, _ what: String) -> [String: String] {
        guard let value else { return [:] }
        guard let object = value.objectValue, object.values.allSatisfy({ $0.stringValue != nil }) else {
            error(pointer, "\(what) must be an object of strings", atValue: true)
            return [:]
        }
        return object.compactMapValues(\.stringValue)
    }

    private mutating func names(_ o: [String: JSONValue], _ key: String, _ label: String) -> [String]? {
        guard let v = o[key] else { return nil }
        guard let items = v.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            error("/" + key, "\(label): '\(key)' must be an array of names", atValue: true)
            return nil
        }
        return items.compactMap(\.stringValue)
    }

    /// A path with a slash resolves against the file's folder; a bare name is looked up in the
    /// file's folder, then in PATH.
    func resolveProgram(_ program: String) -> String? {
        let fm = FileManager.default
        if program.hasPrefix("/") { return fm.fileExists(atPath: program) ? program : nil }
        let local = resolve(program)
        if program.contains("/") { return fm.fileExists(atPath: local) ? local : nil }
        if fm.fileExists(atPath: local) { return local }
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = (String(dir) as NSString).appendingPathComponent(program)
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    func resolve(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : (folder as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }

    func valueAt(_ pointer: String) -> JSONValue? {
        var current: JSONValue? = document.value
        for part in pointer.split(separator: "/", omittingEmptySubsequences: true) {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let index = Int(key), let array = current?.arrayValue {
                current = index < array.count ? array[index] : nil
            } else {
                current = current?[key]
            }
        }
        return current
    }

    func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    mutating func integer(_ o: [String: JSONValue], _ key: String, _ pointer: String, _ label: String, minimum: Int) -> Int? {
        guard let v = o[key] else { return nil }
        guard let n = v.wholeNumber(in: minimum...999_999_999) else {
            error(pointer + "/" + key, "\(label): '\(key)' must be an integer >= \(minimum), got \(v.jsonString)", atValue: true)
            return nil
        }
        return n
    }

    mutating func number(_ o: [String: JSONValue], _ key: String, _ pointer: String, _ label: String) -> Double? {
        guard let v = o[key] else { return nil }
        guard let n = v.numberValue, n > 0, n.isFinite else {
            error(pointer + "/" + key, "\(label): '\(key)' must be a positive number of seconds, got \(v.jsonString)", atValue: true)
            return nil
        }
        guard n <= ToolLimits.maxSeconds else {  // the scheduler's `Duration.seconds(1e300)` would trap
            error(pointer + "/" + key, "\(label): '\(key)' must be at most \(Int(ToolLimits.maxSeconds)) seconds (a year), got \(v.jsonString)", atValue: true)
            return nil
        }
        return n
    }

    mutating func boolean(_ o: [String: JSONValue], _ key: String, _ pointer: String, _ label: String) -> Bool? {
        guard let v = o[key] else { return nil }
        guard let b = v.boolValue else {
            error(pointer + "/" + key, "\(label): '\(key)' must be true or false, got \(v.jsonString)", atValue: true)
            return nil
        }
        return b
    }
}

/// The closest candidate within a small edit distance, for "did you mean" hints.
func didYouMean(_ word: String, _ candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
}

/// Levenshtein distance. - Complexity: O(a·b) time, O(b) space.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
