import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Confines the builtin file tools to one folder, by construction rather than by checking paths.
///
/// Rules:
/// - A path (relative to the root, or absolute inside it) is normalized lexically (`.` and `..`
///   removed); one that then lies outside the root is refused before anything is opened.
/// - What remains is opened beneath a descriptor of the root (``BeneathResolver``: `openat2` with
///   `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, or an `openat(O_NOFOLLOW)` walk): a symbolic link
///   leading out, even one swapped in during the call, makes the open fail. Reads and listings
///   follow links that stay inside; writes follow none.
/// - Files are opened with `O_NONBLOCK | O_NOCTTY`, then `fstat`ed: only regular files are read or
///   written (a FIFO, device or socket is refused without blocking; `O_NONBLOCK` is then cleared).
/// - A write refuses a file with more than one hard link (it may be a file outside the root too),
///   creates a new file with `O_CREAT | O_EXCL` in the folder it opened, and truncates only after
///   these checks.
/// - `tools.d`, `.env` and `.git` at the root, and everything under them, are read-only to writes:
///   a write there could plant a tool or a secret that the next start trusts.
///
/// Every call blocks on the file system: run them on a thread of their own (``OwnThread``).
public struct FileSandbox: Sendable {
    public let root: String
    private let realRoot: String
    let resolution: Resolution

    /// How paths are resolved beneath the root: by the kernel, or by the fallback walk (chosen
    /// automatically where `openat2` is missing; tests choose it to exercise it).
    public enum Resolution: Sendable {
        case openat2
        case walk
    }

    /// Names at the root that `write_file` may not change, nor anything under them.
    static let readOnlyNames: Set<String> = ["tools.d", ".env", ".git"]

    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// An errno from opening beneath the root.
    struct OpenError: Error {
        var code: Int32
    }

    public init(root: URL, resolution: Resolution = .openat2) {
        let path = root.standardizedFileURL.path
        self.root = path
        self.realRoot = FileSandbox.realPath(path) ?? path
        self.resolution = resolution
    }

    // MARK: Opening

    /// A regular file inside the root, open for reading.
    func openForReading(_ path: String) throws(Refusal) -> FileDescriptor {
        let components = try relativeComponents(path)
        let file = try open(components, flags: O_RDONLY | O_NONBLOCK, followLinks: true, shown: path)
        let kind = try file.kind(shown: path)
        if kind == S_IFDIR { throw Refusal(description: "'\(path)' is a folder; use list_dir") }
        try Self.requireRegular(kind, path)
        try file.clearNonBlocking(shown: path)
        return file
    }

    /// A folder inside the root, open for listing.
    func openFolder(_ path: String) throws(Refusal) -> FileDescriptor {
        let components = try relativeComponents(path)
        return try open(components, flags: O_RDONLY | O_DIRECTORY | O_NONBLOCK, followLinks: true, shown: path)
    }

    /// A regular file inside the root with one link, open for writing: created if missing,
    /// emptied unless `append`.
    func openForWriting(_ path: String, append: Bool) throws(Refusal) -> FileDescriptor {
        let components = try relativeComponents(path)
        guard let name = components.last else {
            throw Refusal(description: "'\(path)' is the working folder itself; give a file name")
        }
        if let first = components.first, Self.readOnlyNames.contains(first) {
            throw Refusal(description: "'\(path)' is in \(first), which write_file may not change (tools.d, .env and .git are read-only to it); refused")
        }
        let folder = try open(Array(components.dropLast()), flags: O_RDONLY | O_DIRECTORY, followLinks: false, shown: path, missing: "the folder of '\(path)' does not exist")
        let mode = O_WRONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : 0)
        var opened: Int32 = -1
        // A file created or removed between the two opens: start again (a bounded number of times).
        for _ in 0..<16 where opened < 0 {
            opened = openat(folder.fd, name, mode)
            if opened >= 0 { break }
            var error = errno
            if error == ENOENT {
                opened = openat(folder.fd, name, mode | O_CREAT | O_EXCL, 0o644)
                if opened >= 0 { break }
                error = errno
                if error == EEXIST { continue }
            }
            if error == EINTR { continue }
            if error == ENXIO {
                // O_NONBLOCK write to a FIFO without a reader (or a socket): name the kind.
                var info = stat()
                let kind = fstatat(folder.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info.st_mode & S_IFMT : 0
                try Self.requireRegular(kind, path)
            }
            throw refusal(OpenError(code: error), shown: path, followLinks: false)
        }
        guard opened >= 0 else { throw Refusal(description: "cannot create '\(path)': it keeps appearing and disappearing") }
        let file = FileDescriptor(opened)
        let kind = try file.kind(shown: path)
        if kind == S_IFDIR { throw Refusal(description: "'\(path)' is a folder") }
        try Self.requireRegular(kind, path)
        var info = stat()
        guard fstat(file.fd, &info) == 0 else { throw Refusal(description: "cannot inspect '\(path)': \(Self.describe(errno))") }
        if info.st_nlink > 1 {
            throw Refusal(description: "'\(path)' has \(info.st_nlink) hard links (it may be a file outside the working folder too); refused")
        }
        try file.clearNonBlocking(shown: path)
        if !append, ftruncate(file.fd, 0) != 0 {
            throw Refusal(description: "cannot empty '\(path)': \(Self.describe(errno))")
        }
        return file
    }

    private func open(
        _ components: [String], flags: Int32, followLinks: Bool, shown: String, missing: String? = nil
    ) throws(Refusal) -> FileDescriptor {
        let rootFD = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw Refusal(description: "cannot open the working folder \(root): \(Self.describe(errno))") }
        defer { close(rootFD) }
        switch BeneathResolver(start: rootFD, startPaths: [root, realRoot], resolution: resolution).open(components, flags: flags, followLinks: followLinks) {
        case .success(let fd): return FileDescriptor(fd)
        case .failure(let error):
            if error.code == ENOENT, let missing { throw Refusal(description: missing) }
            throw refusal(error, shown: shown, followLinks: followLinks)
        }
    }

    /// The sentence for a failed open.
    private func refusal(_ error: OpenError, shown path: String, followLinks: Bool) -> Refusal {
        switch error.code {
        case ENOENT: Refusal(description: "'\(path)' does not exist")
        case EXDEV: Refusal(description: "'\(path)' leads outside the working folder (through a symbolic link); refused")
        case ELOOP where followLinks:
            Refusal(description: "'\(path)' goes through too many symbolic links, or a link into /proc; refused")
        case ELOOP: Refusal(description: "'\(path)' goes through a symbolic link, which write_file does not follow; refused")
        case ENOTDIR: Refusal(description: "'\(path)' is not a folder, or a part of it is not")
        case EISDIR: Refusal(description: "'\(path)' is a folder")
        case ENXIO: Refusal(description: "'\(path)' is not a regular file; refused")
        default: Refusal(description: "cannot open '\(path)': \(Self.describe(error.code))")
        }
    }

    private static func requireRegular(_ kind: mode_t, _ path: String) throws(Refusal) {
        guard kind != S_IFREG else { return }
        let name = switch kind {
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFDIR: "a folder"
        default: "of an unknown kind"
        }
        throw Refusal(description: "'\(path)' is not a regular file (\(name)); refused")
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    // MARK: Paths

    /// `path`'s components below the root, with `.` and `..` removed; refused when that leaves the root.
    func relativeComponents(_ path: String) throws(Refusal) -> [String] {
        let normalized = try lexicalPath(path)
        for base in [root, realRoot] where FileSandbox.isInside(normalized, base) {
            return normalized.dropFirst(base.count).split(separator: "/").map(String.init)
        }
        throw Refusal(description: "'\(path)' is outside the working folder \(root); refused")
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
}

/// An open file descriptor, closed when the value goes away. Used on one thread.
final class FileDescriptor {
    let fd: Int32

    init(_ fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// The file's type bits (`S_IFREG`, `S_IFIFO`, ...).
    func kind(shown path: String) throws(FileSandbox.Refusal) -> mode_t {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FileSandbox.Refusal(description: "cannot inspect '\(path)': \(FileSandbox.describe(errno))")
        }
        return info.st_mode & S_IFMT
    }

    /// Makes reads and writes of a regular file ordinary again.
    func clearNonBlocking(shown path: String) throws(FileSandbox.Refusal) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 else {
            throw FileSandbox.Refusal(description: "cannot use '\(path)': \(FileSandbox.describe(errno))")
        }
    }

    /// Up to `limit` bytes from the current position; checks `cancellation` between chunks.
    func read(upTo limit: Int, cancellation: OwnThread.Cancellation) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { chunk.deallocate() }
        while bytes.count < limit {
            try cancellation.check()
            let count = Glibc.read(fd, chunk.baseAddress, min(chunk.count, limit - bytes.count))
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSandbox.Refusal(description: "cannot read: \(FileSandbox.describe(errno))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<count]))
        }
        return bytes
    }

    /// The sorted names in this folder, folders with a trailing '/'.
    func entries(cancellation: OwnThread.Cancellation) throws -> [String] {
        let listed = dup(fd)
        guard listed >= 0, let stream = fdopendir(listed) else {
            if listed >= 0 { close(listed) }
            throw FileSandbox.Refusal(description: "cannot list the folder: \(FileSandbox.describe(errno))")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            try cancellation.check()
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            // stat, not lstat: a link to a folder is shown as one. Only the kind of its target is
            // looked at, never its contents; opening it goes through the sandbox like any path.
            var info = stat()
            let isFolder = fstatat(fd, name, &info, 0) == 0 && info.st_mode & S_IFMT == S_IFDIR
            names.append(isFolder ? name + "/" : name)
        }
        return names.sorted()
    }

    /// Writes all of `bytes`; checks `cancellation` between chunks.
    func write(_ bytes: [UInt8], cancellation: OwnThread.Cancellation) throws {
        var offset = 0
        while offset < bytes.count {
            try cancellation.check()
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, min(64 * 1024, bytes.count - offset)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSandbox.Refusal(description: "cannot write: \(FileSandbox.describe(errno))")
            }
            offset += count
        }
    }
}
