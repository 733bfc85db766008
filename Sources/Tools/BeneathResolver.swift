import CPosix

#if canImport(Glibc)
import Glibc
#endif

/// Opens paths beneath a directory descriptor, so that no resolution can leave it.
///
/// The kernel does it with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: `..` above the
/// descriptor, absolute paths and absolute symbolic links fail with `EXDEV`, links into `/proc`
/// with `ELOOP`. Where the kernel has no `openat2` (`ENOSYS`), the same rules are applied by a walk:
/// each component is opened with `openat(O_NOFOLLOW)` relative to the descriptor of its folder; a
/// symbolic link is read with `readlinkat` and its target's components are walked in its place
/// (an absolute target is walked from the start again if it names a path below it, else fails with
/// `EXDEV`; the kernel refuses every absolute link, so its `EXDEV` is handed to the walk to decide);
/// `..` goes back to the descriptor the walk came from,
/// never above the start (`EXDEV`). Either way every step holds a descriptor, so swapping a path's
/// components while it is opened can make the open fail, never leave the start folder.
///
/// With `followLinks` false any symbolic link on the way fails with `ELOOP`
/// (`RESOLVE_NO_SYMLINKS`). Failures are errno values; the caller turns them into sentences.
struct BeneathResolver {
    /// The folder nothing may leave (not owned: the caller closes it).
    let start: Int32
    /// The absolute paths of `start` (as given, and real): an absolute link to a path below one of
    /// them is walked from `start` again; any other absolute link fails with `EXDEV`.
    let startPaths: [String]
    let resolution: FileSandbox.Resolution

    /// `O_PATH`: a descriptor for walking through a folder, not for reading it.
    private static let pathOnly = cposix_o_path()
    /// Symbolic links followed in one walk before it fails with `ELOOP` (the kernel's limit).
    private static let maxLinks = 40

    /// Opens `components` (relative to `start`; `.` and `..` allowed) with `flags`; a new descriptor or errno.
    func open(_ components: [String], flags: Int32, followLinks: Bool) -> Result<Int32, FileSandbox.OpenError> {
        let flags = flags | O_CLOEXEC | O_NOCTTY
        if resolution == .openat2 {
            var resolve = UInt64(CPOSIX_RESOLVE_BENEATH | CPOSIX_RESOLVE_NO_MAGICLINKS)
            if !followLinks { resolve |= UInt64(CPOSIX_RESOLVE_NO_SYMLINKS) }
            let path = components.isEmpty ? "." : components.joined(separator: "/")
            // EAGAIN: a rename raced with `..` during resolution; EINTR: a signal. Both are worth retrying.
            var error = EAGAIN
            for _ in 0..<16 {
                let fd = cposix_openat2(start, path, flags, 0, resolve)
                if fd >= 0 { return .success(fd) }
                error = errno
                if error != EAGAIN && error != EINTR { break }
            }
            // EXDEV may be an absolute link that stays inside, which the kernel refuses: the walk decides.
            if error != ENOSYS && !(error == EXDEV && followLinks) { return .failure(.init(code: error)) }
        }
        return walk(components, flags: flags, followLinks: followLinks)
    }

    /// The user-space form of `RESOLVE_BENEATH`, for kernels without `openat2`.
    func walk(_ components: [String], flags: Int32, followLinks: Bool) -> Result<Int32, FileSandbox.OpenError> {
        // Folders opened below `start`, innermost last: `..` closes the last one.
        var folders: [Int32] = []
        defer { for fd in folders { close(fd) } }
        var pending = Array(components.reversed())
        var linksLeft = Self.maxLinks
        while let name = pending.popLast() {
            if name.isEmpty || name == "." {
                if pending.isEmpty { break }
                continue
            }
            if name == ".." {
                guard let folder = folders.popLast() else { return .failure(.init(code: EXDEV)) }
                close(folder)
                if pending.isEmpty { break }
                continue
            }
            let folder = folders.last ?? start
            let isLast = pending.isEmpty
            let fd = isLast
                ? openat(folder, name, flags | O_NOFOLLOW)
                : openat(folder, name, Self.pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                if isLast { return .success(fd) }
                folders.append(fd)
                continue
            }
            let error = errno
            if error == EINTR { pending.append(name); continue }
            // A symbolic link: ELOOP as the last component, ENOTDIR on the way (O_PATH opened the link).
            guard error == ELOOP || error == ENOTDIR else { return .failure(.init(code: error)) }
            guard let target = Self.readLink(folder, name) else {
                // Not a link (any more): a real ENOTDIR, or a link swapped for a file since; try again.
                if error == ENOTDIR && errno == EINVAL { return .failure(.init(code: ENOTDIR)) }
                linksLeft -= 1
                if linksLeft <= 0 { return .failure(.init(code: ELOOP)) }
                pending.append(name)
                continue
            }
            guard followLinks else { return .failure(.init(code: ELOOP)) }
            linksLeft -= 1
            if linksLeft <= 0 { return .failure(.init(code: ELOOP)) }
            var parts = target.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            if target.hasPrefix("/") {
                guard let inside = below(target) else { return .failure(.init(code: EXDEV)) }
                // Start again from `start`, with the rest of the path after the link's target.
                for fd in folders { close(fd) }
                folders = []
                parts = inside
            }
            // A link to "." or "" still names its folder.
            pending.append(contentsOf: (parts.isEmpty ? ["."] : parts).reversed())
        }
        // The path ended on a folder reached by `.` or `..`: open that folder itself.
        let fd = openat(folders.last ?? start, ".", flags)
        return fd >= 0 ? .success(fd) : .failure(.init(code: errno))
    }

    /// The components of absolute `path` below one of `startPaths` (lexically: `..` removed), or nil.
    private func below(_ path: String) -> [String]? {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        let normalized = "/" + parts.joined(separator: "/")
        for base in startPaths where FileSandbox.isInside(normalized, base) {
            return normalized.dropFirst(base.count).split(separator: "/").map(String.init)
        }
        return nil
    }

    /// The target of the symbolic link `name` in `folder`, or nil (errno set) if it is not one.
    private static func readLink(_ folder: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(folder, name, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
