import Foundation
import TestSupport

/// The interpreter of the Python baselines: a virtual environment in `.build/bench-venv` (ignored by
/// git), made with `python3 -m venv` and filled by pip from `Benchmarks/requirements.txt` the first
/// time, and again whenever that file changes. So a fresh machine needs only `python3` with its venv
/// module (Debian: python3-venv) and access to PyPI; no package file is kept in the repository.
enum BenchPython {
    static let folder = BenchPaths.file(".build/bench-venv")
    static let requirements = BenchPaths.file("Benchmarks/requirements.txt")

    /// The environment's `python3`, after making or updating the environment if needed.
    static func interpreter() throws -> URL {
        let python = folder.appendingPathComponent("bin/python3")
        // The requirements as last installed: the environment is current when they match the file.
        let stamp = folder.appendingPathComponent("requirements.installed")
        let wanted = try String(contentsOf: requirements, encoding: .utf8)
        if FileManager.default.isExecutableFile(atPath: python.path),
           (try? String(contentsOf: stamp, encoding: .utf8)) == wanted {
            return python
        }
        FileHandle.standardError.write(Data("preparing \(folder.path): python3 -m venv, pip install -r Benchmarks/requirements.txt\n".utf8))
        try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-m", "venv", folder.path])
        try run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements.path])
        try wanted.write(to: stamp, atomically: true, encoding: .utf8)
        return python
    }

    /// The pinned requirements, e.g. `openai==3.57.0`, for the report.
    static var pinned: [String] {
        let text = (try? String(contentsOf: requirements, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// Runs `arguments` through the environment's interpreter and returns its standard output; throws
    /// when it exits non-zero.
    static func output(_ arguments: [String]) throws -> Data {
        let (data, status) = try Proc.output(of: try interpreter(), arguments)
        guard status == 0 else {
            throw BenchFailure("python3 \(arguments.joined(separator: " ")) exited with status \(status)")
        }
        return data
    }

    private static func run(_ executable: URL, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchFailure("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus); a fresh Debian machine needs `apt-get install python3-venv` and access to PyPI")
        }
    }
}
