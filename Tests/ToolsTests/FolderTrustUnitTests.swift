import Foundation
import Testing
@testable import Tools

/// The trusted-folders list: which folders it covers and how a folder is added.
@Suite struct FolderTrustUnitTests {
    private func setUp() throws -> (root: URL, environment: [String: String], list: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("agent-repl-trust-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a/b/c"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a/bc"), withIntermediateDirectories: true)
        let config = root.appendingPathComponent("config")
        return (root, ["XDG_CONFIG_HOME": config.path], config.appendingPathComponent("agent-repl/trusted-folders"))
    }

    @Test func aListedFolderCoversItselfAndWhatIsBelowNotItsSiblings() throws {
        let (root, environment, list) = try setUp()
        #expect(!FolderTrust.isTrusted(root.appendingPathComponent("a/b").path, environment: environment), "no list, nothing trusted")
        try FileManager.default.createDirectory(at: list.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "# comment\n\nrelative/path\n\(root.appendingPathComponent("a/b").path)\n".write(to: list, atomically: true, encoding: .utf8)
        #expect(FolderTrust.isTrusted(root.appendingPathComponent("a/b").path, environment: environment))
        #expect(FolderTrust.isTrusted(root.appendingPathComponent("a/b/c").path, environment: environment))
        #expect(!FolderTrust.isTrusted(root.appendingPathComponent("a/bc").path, environment: environment), "a name prefix is not a parent")
        #expect(!FolderTrust.isTrusted(root.appendingPathComponent("a").path, environment: environment))
    }

    @Test func aSymlinkToATrustedFolderIsTrustedAndTheDefaultListIsUnderHome() throws {
        let (root, environment, list) = try setUp()
        let link = root.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: root.appendingPathComponent("a/b"))
        try FolderTrust.trust(root.appendingPathComponent("a/b").path, environment: environment)
        #expect(FolderTrust.isTrusted(link.path, environment: environment))
        #expect(FolderTrust.isTrusted(link.appendingPathComponent("c").path, environment: environment))
        #expect(FileManager.default.fileExists(atPath: list.path))
        #expect(FolderTrust.listFile(environment: ["HOME": "/h"]) == "/h/.config/agent-repl/trusted-folders")
    }

    @Test func trustAppendsOnALineOfItsOwn() throws {
        let (root, environment, list) = try setUp()
        try FileManager.default.createDirectory(at: list.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "/first/folder".write(to: list, atomically: true, encoding: .utf8)
        try FolderTrust.trust(root.appendingPathComponent("a/bc").path, environment: environment)
        let lines = try String(contentsOf: list, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0] == "/first/folder", "\(lines)")
        #expect(FolderTrust.isTrusted(root.appendingPathComponent("a/bc").path, environment: environment))
        #expect(!FolderTrust.isTrusted(root.appendingPathComponent("a/b").path, environment: environment))
    }

    @Test func projectFilesSaysWhatAFolderWouldSupply() throws {
        let (root, environment, _) = try setUp()
        let folder = root.appendingPathComponent("a/b").path
        #expect(FolderTrust.projectFiles(in: folder, environment: environment).isEmpty)
        try "X=1\n".write(toFile: folder + "/.env", atomically: true, encoding: .utf8)
        #expect(FolderTrust.projectFiles(in: folder, environment: environment).description == ".env")
        try FileManager.default.createDirectory(atPath: folder + "/tools.d", withIntermediateDirectories: true)
        try #"{"name": "t", "description": "d", "exec": ["/bin/true"]}"#.write(toFile: folder + "/tools.d/t.json", atomically: true, encoding: .utf8)
        #expect(FolderTrust.projectFiles(in: folder, environment: environment).description == "tools.d (1 tool) and .env")
    }
}
