import Dispatch
import Foundation
import Synchronization
import Testing
import JSON
import TestSupport
@testable import Tools

#if canImport(Glibc)
import Glibc
#endif

/// The builtin file tools' sandbox under attack: a symlink swapped in during a call, hard links,
/// FIFOs, and writes to the files that configure the agent itself.
@Suite struct FileSandboxTests {
    func call(_ runner: ToolRunner, _ name: String, _ arguments: String) async -> ToolResult {
        await runner.run(BuiltinTools.declaration(name)!, arguments: arguments)
    }

    // MARK: Symlink swap

    /// A thread flips `root/flip` between a regular file inside the root and a symbolic link to a
    /// file outside it (each state put in place by an atomic rename), while read_file reads `flip`
    /// again and again. Checking a path and then opening it lets some calls read the secret; opening
    /// beneath the root's descriptor never does, whichever way the path is resolved.
    @Test(.timeLimit(.minutes(1)), .serialized, arguments: [
        (FileSandbox.Resolution.openat2, "absolute"), (.openat2, "relative"),
        (.walk, "absolute"), (.walk, "relative"),
    ])
    func symlinkSwapNeverReadsOutside(resolution: FileSandbox.Resolution, linkKind: String) async {
        let root = TempFolder()
        let outside = TempFolder()
        defer { root.remove(); outside.remove() }
        root.write("inside.txt", "inside")
        outside.write("secret.txt", "top secret")
        let target = linkKind == "absolute"
            ? outside.path + "/secret.txt"
            : "../" + (outside.path as NSString).lastPathComponent + "/secret.txt"
        let flipper = Flipper(root: root.path, linkTarget: target)
        flipper.start()
        defer { flipper.stop() }

        var runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        runner.fileResolution = resolution
        var leaks = 0, insides = 0, refusals = 0
        for _ in 0..<4000 {
            let result = await call(runner, "read_file", #"{"path": "flip"}"#)
            if result.output.contains("top secret") { leaks += 1 }
            if result.output == "inside" { insides += 1 }
            if result.error?.contains("refused") == true { refusals += 1 }
        }
        flipper.stop()
        #expect(leaks == 0, "\(leaks) of 4000 calls read the file outside the root (\(flipper.flips) flips)")
        #expect(insides > 0, "no call read the file inside the root")
        #expect(flipper.flips > 0)
    }

    /// The same race on a folder on the way: `flip` leads to a folder inside, then to one outside.
    @Test(.timeLimit(.minutes(1)), .serialized, arguments: [FileSandbox.Resolution.openat2, .walk])
    func folderSwapNeverReadsOutside(resolution: FileSandbox.Resolution) async {
        let root = TempFolder()
        let outside = TempFolder()
        defer { root.remove(); outside.remove() }
        root.write("inner/secret.txt", "inside")
        outside.write("secret.txt", "top secret")
        let flipper = Flipper(root: root.path, linkTarget: outside.path, insideLink: "inner")
        flipper.start()
        defer { flipper.stop() }
        var runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        runner.fileResolution = resolution
        var leaks = 0, insides = 0
        for _ in 0..<2000 {
            let result = await call(runner, "read_file", #"{"path": "flip/secret.txt"}"#)
            if result.output.contains("top secret") { leaks += 1 }
            if result.output == "inside" { insides += 1 }
        }
        flipper.stop()
        #expect(leaks == 0, "\(leaks) of 2000 calls read the file outside the root (\(flipper.flips) flips)")
        #expect(insides > 0, "no call read the file inside the root")
    }

    /// The same race against write_file: the file outside is never changed.
    @Test(.timeLimit(.minutes(1)), .serialized, arguments: [FileSandbox.Resolution.openat2, .walk])
    func symlinkSwapNeverWritesOutside(resolution: FileSandbox.Resolution) async {
        let root = TempFolder()
        let outside = TempFolder()
        defer { root.remove(); outside.remove() }
        root.write("inside.txt", "inside")
        let secret = outside.write("secret.txt", "top secret")
        let flipper = Flipper(root: root.path, linkTarget: secret, fileByLink: false)
        flipper.start()
        defer { flipper.stop() }
        var runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        runner.fileResolution = resolution
        var written = 0
        for _ in 0..<2000 {
            if await call(runner, "write_file", #"{"path": "flip", "content": "planted"}"#).ok { written += 1 }
        }
        flipper.stop()
        #expect((try? String(contentsOfFile: secret, encoding: .utf8)) == "top secret")
        #expect(written > 0, "no write reached the file inside the root")
    }

    /// Both resolutions follow links that stay inside (absolute or relative) and refuse those that lead out.
    @Test(.timeLimit(.minutes(1)), arguments: [FileSandbox.Resolution.openat2, .walk])
    func linksInsideAreFollowedAndLinksOutRefused(resolution: FileSandbox.Resolution) async {
        let root = TempFolder()
        let outside = TempFolder()
        defer { root.remove(); outside.remove() }
        root.write("sub/inner.txt", "inner")
        outside.write("secret.txt", "top secret")
        symlink(root.path + "/sub/inner.txt", root.path + "/absolute_in")
        symlink("sub/../sub/inner.txt", root.path + "/relative_in")
        symlink("sub", root.path + "/folder_in")
        symlink(outside.path + "/secret.txt", root.path + "/absolute_out")
        symlink("../" + (outside.path as NSString).lastPathComponent + "/secret.txt", root.path + "/relative_out")
        symlink("/proc/self/root/" + outside.path + "/secret.txt", root.path + "/proc_out")
        symlink("loop", root.path + "/loop")
        var runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        runner.fileResolution = resolution
        for path in ["absolute_in", "relative_in", "folder_in/inner.txt"] {
            #expect(await call(runner, "read_file", "{\"path\": \"\(path)\"}").output == "inner", "\(path)")
        }
        #expect(await call(runner, "list_dir", #"{"path": "folder_in"}"#).output == "inner.txt")
        for path in ["absolute_out", "relative_out", "proc_out", "loop"] {
            let result = await call(runner, "read_file", "{\"path\": \"\(path)\"}")
            #expect(result.outcome == .failed, "\(path)")
            #expect(result.error?.hasSuffix("; refused") == true, "\(path): \(result)")
            #expect(!result.output.contains("top secret"))
        }
    }

    // MARK: Blocking work off the cooperative pool

    /// More bodies blocked at once than the pool has threads, and a task on the pool still runs.
    @Test(.timeLimit(.minutes(1))) func blockedFileWorkLeavesThePoolFree() async throws {
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let gate = DispatchSemaphore(value: 0)
        let started = Counter()
        // A broken build blocks the pool: a thread outside it opens the gate after a generous bound.
        let released = Counter()
        let watchdog = Thread {
            Thread.sleep(forTimeInterval: 30)
            if released.add() == 1 { for _ in 0..<count { gate.signal() } }
        }
        watchdog.start()
        let works = (0..<count).map { _ in
            Task { try await OwnThread.run(name: "blocked") { _ in started.add(); gate.wait(); return 1 } }
        }
        let allStarted = await Proc.eventually { started.value == count }
        let other = await Task { 42 }.value
        let openedByWatchdog = released.add() != 1
        if !openedByWatchdog { for _ in 0..<count { gate.signal() } }
        var total = 0
        for work in works { total += try await work.value }
        #expect(allStarted && other == 42 && total == count)
        #expect(!openedByWatchdog, "the blocked bodies held the cooperative pool")
    }

    @Test(.timeLimit(.minutes(1))) func cancellingTheTaskStopsTheThreadsWork() async {
        let task = Task {
            try await OwnThread.run(name: "spin") { cancellation in
                while !cancellation.isCancelled { usleep(1000) }
                try cancellation.check()
                return 0
            }
        }
        task.cancel()
        let outcome = await value { await task.result }
        #expect(outcome != nil, "the body did not see the cancellation within \(Proc.patience)")
        if case .failure(let error)? = outcome { #expect(error is CancellationError) } else { Issue.record("not cancelled") }
    }

    // MARK: Hard links

    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func writeThroughAHardLinkIsRefused(append: Bool) async {
        let root = TempFolder()
        let outside = TempFolder()
        defer { root.remove(); outside.remove() }
        let target = outside.write("target.txt", "original")
        #expect(link(target, root.path + "/linked.txt") == 0)
        let runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        let result = await call(runner, "write_file", #"{"path": "linked.txt", "content": "changed", "append": \#(append)}"#)
        #expect(result.outcome == .failed)
        #expect(result.error == "'linked.txt' has 2 hard links (it may be a file outside the working folder too); refused", "\(result)")
        #expect((try? String(contentsOfFile: target, encoding: .utf8)) == "original")
    }

    // MARK: FIFOs and other non-regular files

    @Test(.timeLimit(.minutes(1))) func readingAFIFOIsRefusedWithoutBlocking() async {
        let root = TempFolder()
        defer { root.remove() }
        #expect(mkfifo(root.path + "/pipe", 0o600) == 0)
        let watchdog = FIFOWatchdog(fifos: [root.path + "/pipe"])
        let runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        let result = await call(runner, "read_file", #"{"path": "pipe"}"#)
        let write = await call(runner, "write_file", #"{"path": "pipe", "content": "x"}"#)
        let unblocked = watchdog.finish()
        #expect(!unblocked, "a call blocked in open() until the test opened the FIFO's other end")
        #expect(result.outcome == .failed)
        #expect(result.error == "'pipe' is not a regular file (a FIFO); refused", "\(result)")
        #expect(write.error == "'pipe' is not a regular file (a FIFO); refused", "\(write)")
        #expect(await call(runner, "read_file", #"{"path": "/dev/null"}"#).error?.contains("refused") == true)
    }

    /// Two blocked opens would hold both threads of a two-core machine's cooperative pool, and the
    /// whole process (this test's own tasks included) would stop. A watchdog thread, outside the pool,
    /// opens the FIFOs' other ends after a generous bound so that a broken build fails instead of hanging.
    @Test(.timeLimit(.minutes(1))) func concurrentFIFOReadsDoNotFreezeOtherTasks() async {
        let root = TempFolder()
        defer { root.remove() }
        #expect(mkfifo(root.path + "/a", 0o600) == 0)
        #expect(mkfifo(root.path + "/b", 0o600) == 0)
        let watchdog = FIFOWatchdog(fifos: [root.path + "/a", root.path + "/b"])
        let runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        let readA = runner.start(BuiltinTools.declaration("read_file")!, arguments: #"{"path": "a"}"#)
        let readB = runner.start(BuiltinTools.declaration("read_file")!, arguments: #"{"path": "b"}"#)
        // Other work on the pool goes on while the reads run.
        let others = await withTaskGroup(of: Int.self) { group in
            for i in 0..<8 { group.addTask { await Task.yield(); return i } }
            return await group.reduce(0, +)
        }
        let unblockedBeforeOthers = watchdog.hasFired
        let (a, b) = (await readA.result(), await readB.result())
        let unblocked = watchdog.finish()
        #expect(others == 28)
        #expect(!unblockedBeforeOthers && !unblocked, "the process froze until the test opened the FIFOs' other ends")
        #expect(a.error == "'a' is not a regular file (a FIFO); refused", "\(a)")
        #expect(b.error == "'b' is not a regular file (a FIFO); refused", "\(b)")
    }

    // MARK: The agent's own configuration

    @Test(.timeLimit(.minutes(1)), arguments: [
        ("tools.d/a.json", "tools.d"),
        ("./x/../tools.d/a.json", "tools.d"),
        ("tools.d", "tools.d"),
        ("tools.d/sub/b.json", "tools.d"),
        (".env", ".env"),
        ("./.env", ".env"),
        (".git/config", ".git"),
        (".git/hooks/pre-commit", ".git"),
        ("sub/../.git/HEAD", ".git"),
    ])
    func writesToTheAgentsConfigurationAreRefused(path: String, protected: String) async {
        let root = TempFolder()
        defer { root.remove() }
        root.write("tools.d/existing.json", "{}")
        root.write("tools.d/sub/b.json", "{}")
        root.write(".env", "KEY=1")
        root.write(".git/config", "[core]")
        root.write(".git/HEAD", "ref: refs/heads/main")
        root.write(".git/hooks/README", "")
        root.write("sub/x.txt", "")
        let runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        for shown in [path, root.path + "/" + path] {
            let result = await call(runner, "write_file", "{\"path\": \"\(shown)\", \"content\": \"planted\"}")
            #expect(result.outcome == .failed)
            #expect(result.error == "'\(shown)' is in \(protected), which write_file may not change (tools.d, .env and .git are read-only to it); refused", "\(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.path + "/tools.d/a.json"))
        #expect((try? String(contentsOfFile: root.path + "/.env", encoding: .utf8)) == "KEY=1")
        #expect((try? String(contentsOfFile: root.path + "/.git/config", encoding: .utf8)) == "[core]")
        #expect(!FileManager.default.fileExists(atPath: root.path + "/.git/hooks/pre-commit"))
        // Reading them stays allowed; names that only look alike are ordinary files.
        #expect(await call(runner, "read_file", #"{"path": ".git/config"}"#).output == "[core]")
        #expect(await call(runner, "write_file", #"{"path": "TOOLS.D", "content": "x"}"#).ok)
        #expect(await call(runner, "write_file", #"{"path": ".env.example", "content": "x"}"#).ok)
    }

    /// A link inside the root that leads into tools.d would get around the names: writes follow no link.
    @Test(.timeLimit(.minutes(1))) func writesFollowNoSymbolicLink() async {
        let root = TempFolder()
        defer { root.remove() }
        root.write("tools.d/existing.json", "{}")
        root.write("notes.txt", "notes")
        symlink("tools.d", root.path + "/alias")
        symlink("notes.txt", root.path + "/notes_link")
        let runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        let viaFolder = await call(runner, "write_file", #"{"path": "alias/a.json", "content": "planted"}"#)
        #expect(viaFolder.error == "'alias/a.json' goes through a symbolic link, which write_file does not follow; refused", "\(viaFolder)")
        #expect(!FileManager.default.fileExists(atPath: root.path + "/tools.d/a.json"))
        let viaFile = await call(runner, "write_file", #"{"path": "notes_link", "content": "changed"}"#)
        #expect(viaFile.error == "'notes_link' goes through a symbolic link, which write_file does not follow; refused", "\(viaFile)")
        #expect((try? String(contentsOfFile: root.path + "/notes.txt", encoding: .utf8)) == "notes")
    }

    @Test(.timeLimit(.minutes(1))) func newFilesAreCreatedAndReplacedFilesKeepNoOldTail() async {
        let root = TempFolder()
        defer { root.remove() }
        root.write("long.txt", "a long old text")
        let runner = ToolRunner(fileRoot: URL(fileURLWithPath: root.path))
        #expect(await call(runner, "write_file", #"{"path": "long.txt", "content": "short"}"#).ok)
        #expect(await call(runner, "read_file", #"{"path": "long.txt"}"#).output == "short")
        #expect(await call(runner, "write_file", #"{"path": "fresh.txt", "content": "new", "append": true}"#).ok)
        #expect(await call(runner, "read_file", #"{"path": "fresh.txt"}"#).output == "new")
        let missingFolder = await call(runner, "write_file", #"{"path": "nowhere/x.txt", "content": "x"}"#)
        #expect(missingFolder.error == "the folder of 'nowhere/x.txt' does not exist", "\(missingFolder)")
        let folder = await call(runner, "read_file", #"{"path": "."}"#)
        #expect(folder.error == "'.' is a folder; use list_dir", "\(folder)")
    }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    /// Adds one; returns the new value.
    @discardableResult func add() -> Int { count.add(1, ordering: .relaxed).newValue }
}

/// Flips `root/flip` between an entry that stays inside (a hard link to `root/inside.txt`, a new
/// file, or a symbolic link to `insideLink`) and a symbolic link to `linkTarget`, each put in place
/// by rename(2), on a thread of its own until stopped.
final class Flipper: Sendable {
    let root: String
    let linkTarget: String
    let fileByLink: Bool
    let insideLink: String?
    private let running = Atomic<Bool>(false)
    private let count = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init(root: String, linkTarget: String, fileByLink: Bool = true, insideLink: String? = nil) {
        self.root = root
        self.linkTarget = linkTarget
        self.fileByLink = fileByLink
        self.insideLink = insideLink
    }

    var flips: Int { count.load(ordering: .relaxed) }

    func start() {
        running.store(true, ordering: .relaxed)
        let thread = Thread { [self] in
            let flip = root + "/flip", tmpLink = root + "/flip.link", tmpFile = root + "/flip.file"
            while running.load(ordering: .relaxed) {
                unlink(tmpLink)
                symlink(linkTarget, tmpLink)
                rename(tmpLink, flip)
                unlink(tmpFile)
                if let insideLink {
                    symlink(insideLink, tmpFile)
                } else if fileByLink {
                    link(root + "/inside.txt", tmpFile)
                } else {
                    let fd = open(tmpFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if fd >= 0 { _ = write(fd, "inside", 6); close(fd) }
                }
                rename(tmpFile, flip)
                count.add(2, ordering: .relaxed)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops the thread and waits for it; idempotent.
    func stop() {
        if running.exchange(false, ordering: .relaxed) { done.wait() }
    }
}

/// Unblocks readers stuck in open() of FIFOs, from a thread outside the cooperative pool, if the test
/// has not finished within `Proc.patience`; a blocked open is then a failure instead of a hang.
final class FIFOWatchdog: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let fired = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)

    init(fifos: [String]) {
        let thread = Thread { [self] in
            if finished.wait(timeout: .now() + .seconds(30)) == .timedOut {
                fired.store(true, ordering: .relaxed)
                // Opening the write end lets a blocked reader's open return; closing it gives EOF.
                // A blocked writer's open returns when a reader comes: both ends, until finished.
                repeat {
                    var fds: [Int32] = []
                    for fifo in fifos {
                        fds.append(open(fifo, O_WRONLY | O_NONBLOCK))
                        fds.append(open(fifo, O_RDONLY | O_NONBLOCK))
                    }
                    usleep(50_000)
                    for fd in fds where fd >= 0 { close(fd) }
                } while finished.wait(timeout: .now() + .milliseconds(200)) == .timedOut
            }
            exited.signal()
        }
        thread.start()
    }

    var hasFired: Bool { fired.load(ordering: .relaxed) }

    /// Ends the watch; true when it had to unblock the FIFOs.
    func finish() -> Bool {
        finished.signal()
        exited.wait()
        return fired.load(ordering: .relaxed)
    }
}
