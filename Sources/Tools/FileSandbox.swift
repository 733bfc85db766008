import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import JSON
#endif

/// Confines builtin file tools to one folder.
///
/// A path is refused when, after joining it to the root and removing `.` and `..`, it is outside
/// the root; or when the real path (symlinks resolved with `realpath`) of the file - or, for a file
/// still to be written, of its folder - is outside the root's real path. "Inside" is checked on
/// a path-component boundary, so `/work/root2` is not inside `/work/root`.
public struct FileSandbox: Sendable {
    public let root: String
    private let realRoot: String

    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(root: URL) {
        let path = root.standardizedFileURL.path
        self.root = path
        self.realRoot = FileSandbox.realPath(path) ?? path
    }

    /// The real path of an existing file or folder inside the root.
    public func existing(_ path: String) throws(Refusal) -> String {
        let lexical = try lexicalPath(path)
        guard let real = FileSandbox.realPath(lexical) else {
            throw Refusal(description: "'\(path)' does not exist")
        }
        guard FileSandbox.isInside(real, realRoot) else {
            throw Refusal(description: "'\(path)' leads outside the working folder (through a symbolic link); refused")
        }
        return real
    }

    /// Where to write `path`: its folder must exist inside the root, and an existing file there
    /// must not be a link leading out.
    public func writable(_ path: String) throws(Refusal) -> String {
        let lexical = try lexicalPath(path)
        let folder = (lexical as NSString).deletingLastPathComponent
        let name = (lexical as NSString).lastPathComponent
        guard let realFolder = FileSandbox.realPath(folder) else {
            throw Refusal(description: "the folder of '\(path)' does not exist")
        }
        guard FileSandbox.isInside(realFolder, realRoot) else {
            throw Refusal(description: "'\(path)' leads outside the working folder (through a symbolic link); refused")
        }
        let target = (realFolder as NSString).appendingPathComponent(name)
        var info = stat()
        if lstat(target, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            guard let real = FileSandbox.realPath(target), FileSandbox.isInside(real, realRoot) else {
                throw Refusal(description: "'\(path)' is a symbolic link leading outside the working folder; refused")
            }
            return real
        }
        return target
    }

    /// `path` joined to the root with `.` and `..` removed; refused when that leaves the root.
    func lexicalPath(_ path: String) throws(Refusal) -> String {
        if path.isEmpty { throw Refusal(description: "the path is empty") }
        if path.contains("\0") { throw Refusal(description: "the path contains a NUL byte") }
        let joined = path.hasPrefix("/") ? path : root + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                if parts.isEmpty { throw Refusal(description: "'\(path)' is outside the working folder; refused") }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        let normalized = "/" + parts.joined(separator: "/")
        guard FileSandbox.isInside(normalized, root) || FileSandbox.isInside(normalized, realRoot) else {
            throw Refusal(description: "'\(path)' is outside the working folder \(root); refused")
        }
        return normalized
    }

    /// Whether `path` is `base` or below it, on a component boundary.
    static func isInside(_ path: String, _ base: String) -> Bool {
        if base == "/" { return true }
        return path == base || path.hasPrefix(base.hasSuffix("/") ? base : base + "/")
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The path relative to the root, for messages.
    func display(_ real: String) -> String {
        if real == realRoot { return "." }
        if FileSandbox.isInside(real, realRoot) { return String(real.dropFirst(realRoot.count + 1)) }
        return real
    }
}
