import Foundation

/// Which working folders may supply their own `./tools.d` and `./.env`: those listed, or under a
/// folder listed, in `$XDG_CONFIG_HOME/agent-repl/trusted-folders` (one absolute path per line).
/// A cloned repository is not trusted until the user says so, so its tool declarations cannot
/// shadow the user's tools and its `.env` cannot redirect the endpoint.
public enum FolderTrust {
    /// `$XDG_CONFIG_HOME/agent-repl`, falling back to `~/.config/agent-repl`.
    public static func configFolder(environment: [String: String]) -> String {
        let configHome: String
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            configHome = xdg
        } else {
            let home = environment["HOME"] ?? NSHomeDirectory()
            configHome = (home as NSString).appendingPathComponent(".config")
        }
        return (configHome as NSString).appendingPathComponent("agent-repl")
    }

    /// The list of trusted folders.
    public static func listFile(environment: [String: String]) -> String {
        (configFolder(environment: environment) as NSString).appendingPathComponent("trusted-folders")
    }

    /// The absolute paths listed (blank lines, `#` comments and relative paths are ignored).
    public static func listed(environment: [String: String]) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: listFile(environment: environment)),
              let data = try? handle.read(upToCount: 1 << 20) else { return [] }
        try? handle.close()
        return String(decoding: data, as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("/") }
    }

    /// Whether `folder` (absolute) or a folder above it is listed.
    public static func isTrusted(_ folder: String, environment: [String: String]) -> Bool {
        let target = resolved(folder)
        return listed(environment: environment).contains { FileSandbox.isInside(target, resolved($0)) }
    }

    /// Appends `folder` to the list, creating the list and its folder when needed.
    public static func trust(_ folder: String, environment: [String: String]) throws {
        let file = listFile(environment: environment)
        try FileManager.default.createDirectory(
            atPath: configFolder(environment: environment), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: file) {
            guard FileManager.default.createFile(atPath: file, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file])
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        var text = resolved(folder) + "\n"
        if end > 0 {
            // Start on a line of its own if the file does not end with a newline.
            let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
            defer { try? reader.close() }
            try reader.seek(toOffset: end - 1)
            if (try reader.read(upToCount: 1)) != Data("\n".utf8) { text = "\n" + text }
        }
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// What a folder would supply if trusted.
    public struct ProjectFiles: Sendable, Equatable {
        /// The number of valid tools in its `tools.d`, nil when it has none.
        public var tools: Int?
        public var dotEnv: Bool

        public init(tools: Int?, dotEnv: Bool) {
            self.tools = tools
            self.dotEnv = dotEnv
        }

        public var isEmpty: Bool { tools == nil && !dotEnv }

        /// "tools.d (2 tools) and .env", "tools.d (1 tool)", ".env".
        public var description: String {
            var parts: [String] = []
            if let tools { parts.append("tools.d (\(tools) tool\(tools == 1 ? "" : "s"))") }
            if dotEnv { parts.append(".env") }
            return parts.joined(separator: " and ")
        }
    }

    /// The `tools.d` folder and `.env` file of `folder`, if present.
    public static func projectFiles(in folder: String, environment: [String: String]) -> ProjectFiles {
        let fm = FileManager.default
        let tools = (folder as NSString).appendingPathComponent("tools.d")
        var isDirectory: ObjCBool = false
        var count: Int?
        if fm.fileExists(atPath: tools, isDirectory: &isDirectory), isDirectory.boolValue {
            count = ToolLoader.load(folders: [ToolFolder(tools)], environment: environment).tools.count
        }
        let dotEnv = fm.fileExists(atPath: (folder as NSString).appendingPathComponent(".env"))
        return ProjectFiles(tools: count, dotEnv: dotEnv)
    }

    /// The path with symbolic links resolved, so a listed folder matches however it is reached.
    static func resolved(_ path: String) -> String {
        let standard = (path as NSString).standardizingPath
        return FileSandbox.realPath(standard) ?? standard
    }
}
