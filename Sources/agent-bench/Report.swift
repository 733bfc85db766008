import Foundation

/// One benchmark section of docs/BENCHMARKS.md: a title, a short text, one or more tables.
struct ReportSection {
    var title: String
    var text: String
    var tables: [MarkdownTable]

    init(title: String, text: String, table: MarkdownTable) {
        self.init(title: title, text: text, tables: [table])
    }

    init(title: String, text: String, tables: [MarkdownTable]) {
        self.title = title
        self.text = text
        self.tables = tables
    }

    /// The tables, each after its caption.
    var tablesMarkdown: String { tables.map(\.markdownWithCaption).joined(separator: "\n\n") }
}

/// A benchmark that produces one section. Add a type conforming to this and list it in main.swift.
protocol Benchmark {
    var title: String { get }
    func run(quick: Bool) async throws -> ReportSection
}

/// A small markdown table writer.
struct MarkdownTable {
    var headers: [String]
    var rows: [[String]] = []
    /// A line printed before the table when there are several in a section.
    var caption: String?

    init(headers: [String], caption: String? = nil) {
        self.headers = headers
        self.caption = caption
    }

    mutating func add(_ row: String...) { rows.append(row) }

    var markdown: String {
        var lines = ["| " + headers.joined(separator: " | ") + " |",
                     "|" + headers.map { _ in " --- |" }.joined()]
        lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n")
    }

    var markdownWithCaption: String { caption.map { "\($0)\n\n" + markdown } ?? markdown }
}

enum Machine {
    static var cpu: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    static var uname: String {
        var u = utsname()
        Foundation.uname(&u)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))"
    }
}

/// Formatting helpers.
func fmt(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = Int((Double(sorted.count) * p).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
