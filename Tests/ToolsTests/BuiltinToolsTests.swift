import Foundation
import Testing
import JSON
import TestSupport
@testable import Tools

@Suite struct BuiltinToolsTests {
    /// A root with a file, a subfolder, a neighbour folder whose name shares the root's prefix,
    /// and links leading in and out.
    func makeRoot() -> (root: TempFolder, outside: TempFolder, runner: ToolRunner) {
        let root = TempFolder()
        let outside = TempFolder()
        root.write("notes.txt", "hello notes")
        root.write("sub/inner.txt", "inner")
        outside.write("secret.txt", "top secret")
        symlink(outside.path + "/secret.txt", root.path + "/link_out")
        symlink(outside.path, root.path + "/dir_out")
        symlink(root.path + "/notes.txt", root.path + "/link_in")
        try? FileManager.default.createDirectory(atPath: root.path + "2", withIntermediateDirectories: true)
        try? "sibling".write(toFile: root.path + "2/x.txt", atomically: true, encoding: .utf8)
        return (root, outside, ToolRunner(fileRoot: URL(fileURLWithPath: root.path)))
    }

    func cleanUp(_ r: (root: TempFolder, outside: TempFolder, runner: ToolRunner)) {
        r.root.remove()
        r.outside.remove()
        try? FileManager.default.removeItem(atPath: r.root.path + "2")
    }

    func call(_ runner: ToolRunner, _ name: String, _ arguments: String) async -> ToolResult {
        await runner.run(BuiltinTools.declaration(name)!, arguments: arguments)
    }

    @Test func readWriteAndListInsideTheRoot() async {
        let r = makeRoot()
        defer { cleanUp(r) }
        #expect(await call(r.runner, "read_file", #"{"path": "notes.txt"}"#).output == "hello notes")
        #expect(await call(r.runner, "read_file", #"{"path": "sub/../notes.txt"}"#).output == "hello notes")
        #expect(await call(r.runner, "read_file", #"{"path": "link_in"}"#).output == "hello notes")
        #expect(await call(r.runner, "read_file", "{\"path\": \"\(r.root.path)/sub/inner.txt\"}").output == "inner")
        #expect(await call(r.runner, "read_file", #"{"path": "notes.txt", "max_bytes": 5}"#).output == "hello\n[file cut: showing the first 5 bytes]")
        #expect(await call(r.runner, "write_file", #"{"path": "sub/new.txt", "content": "abc"}"#).output == "wrote 3 bytes to sub/new.txt")
        #expect(await call(r.runner, "write_file", #"{"path": "sub/new.txt", "content": "d", "append": true}"#).ok)
        #expect(await call(r.runner, "read_file", #"{"path": "sub/new.txt"}"#).output == "abcd")
        #expect(await call(r.runner, "list_dir", "{}").output == "dir_out/\nlink_in\nlink_out\nnotes.txt\nsub/")
        #expect(await call(r.runner, "list_dir", #"{"path": "sub"}"#).output == "inner.txt\nnew.txt")
    }

    @Test(arguments: [
        ("read_file", #"{"path": "../x"}"#),
        ("read_file", #"{"path": "sub/../../etc/passwd"}"#),
        ("read_file", #"{"path": "/etc/passwd"}"#),
        ("read_file", #"{"path": "link_out"}"#),
        ("read_file", #"{"path": "dir_out/secret.txt"}"#),
        ("list_dir", #"{"path": ".."}"#),
        ("list_dir", #"{"path": "dir_out"}"#),
        ("list_dir", #"{"path": "/"}"#),
        ("write_file", #"{"path": "../escape.txt", "content": "x"}"#),
        ("write_file", #"{"path": "/tmp/escape.txt", "content": "x"}"#),
        ("write_file", #"{"path": "link_out", "content": "x"}"#),
        ("write_file", #"{"path": "dir_out/new.txt", "content": "x"}"#),
    ])
    func escapesAreRefused(tool: String, arguments: String) async {
        let r = makeRoot()
        defer { cleanUp(r) }
        let result = await call(r.runner, tool, arguments)
        #expect(result.outcome == .failed)
        #expect(result.error?.contains("refused") == true, "\(result)")
        #expect(!result.output.contains("top secret"))
        #expect((try? String(contentsOfFile: r.outside.path + "/secret.txt", encoding: .utf8)) == "top secret")
        #expect(!FileManager.default.fileExists(atPath: r.outside.path + "/new.txt"))
    }

    @Test func siblingFolderWithTheSamePrefixIsOutside() async {
        let r = makeRoot()
        defer { cleanUp(r) }
        let name = (r.root.path as NSString).lastPathComponent
        let result = await call(r.runner, "read_file", "{\"path\": \"../\(name)2/x.txt\"}")
        #expect(result.outcome == .failed)
        let absolute = await call(r.runner, "read_file", "{\"path\": \"\(r.root.path)2/x.txt\"}")
        #expect(absolute.outcome == .failed)
        #expect(FileSandbox.isInside("/a/root2/x", "/a/root") == false)
        #expect(FileSandbox.isInside("/a/root/x", "/a/root"))
    }

    @Test func missingFileAndBadArguments() async {
        let r = makeRoot()
        defer { cleanUp(r) }
        #expect(await call(r.runner, "read_file", #"{"path": "nope.txt"}"#).error == "'nope.txt' does not exist")
        #expect(await call(r.runner, "read_file", "{}").error == "invalid arguments: missing required property 'path'")
    }

    @Test func nowHonoursTheTimeZone() async {
        let runner = ToolRunner()
        let utc = await call(runner, "now", #"{"timezone": "UTC"}"#)
        #expect(utc.ok)
        #expect(utc.output.hasSuffix("(UTC)"))
        #expect(utc.output.contains("+00:00") || utc.output.contains("Z "))
        let bad = await call(runner, "now", #"{"timezone": "Mars/Olympus"}"#)
        #expect(bad.error == "unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Paris")
    }

    /// `now` formats by hand what `DateFormatter` wrote: the same text for any time in any zone,
    /// half-hour and 45-minute offsets, daylight saving changes, and offsets with seconds (Amsterdam's
    /// +00:19:32 before 1937).
    @Test func nowWritesWhatDateFormatterWrote() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssXXXXX EEEE"
        let zones = ["UTC", "Europe/Paris", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham",
                     "America/Los_Angeles", "Europe/Amsterdam", "Pacific/Kiritimati", "Asia/Shanghai"]
        var random = SplitMix64(seed: 14)
        for name in zones {
            let zone = try #require(TimeZone(identifier: name))
            formatter.timeZone = zone
            let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1_200_000_000), Date()]
                + (0..<300).map { _ in Date(timeIntervalSince1970: Double(random.next(below: 8_000_000_000)) - 2_500_000_000) }
            for date in dates {
                #expect(BuiltinTools.timestamp(date, in: zone) == formatter.string(from: date), "\(name) \(date.timeIntervalSince1970)")
            }
        }
    }

    @Test(.timeLimit(.minutes(1))) func sleepIsCancellable() async throws {
        let execution = ToolRunner().start(try #require(BuiltinTools.declaration("sleep")), arguments: #"{"seconds": 300}"#)
        execution.terminate()
        // The result comes long before the sleep's natural end (300 s).
        let result = await value { await execution.result() }
        #expect(result?.outcome == .cancelled, "no result within \(Proc.patience) of terminate()")
        #expect(await call(ToolRunner(), "sleep", #"{"seconds": 0.01}"#).output == "slept 0.01 s")
    }

    @Test func sleepRefusesSecondsBeyondItsRangeWhateverTheDeclaredSchema() async {
        // A tools.d declaration may give the builtin a looser schema; Int64(1e300 * 1000) trapped.
        let loose = ToolDeclaration(name: "nap", description: "d", parameters: ["type": "object"], runner: .builtin("sleep"))
        for (seconds, shown) in [("1e300", "1e+300"), ("-1", "-1"), ("3601", "3601")] {
            let result = await ToolRunner().run(loose, arguments: #"{"seconds": \#(seconds)}"#)
            #expect(result.error == "'seconds' must be from 0 to 3600, got \(shown)")
        }
    }
}
