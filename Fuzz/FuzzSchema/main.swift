// libFuzzer target: a tool's parameters schema and a model's arguments, through the schema checks and
// the validator, as the tools.d loader and ToolRunner use them. Run by scripts/fuzz.
//
// Input: the schema's JSON text, a NUL byte, the arguments' text (no NUL: the schema alone, no arguments).
import Foundation
import FuzzDriver
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let split = input.firstIndex(of: 0) ?? input.endIndex
    guard let schema = try? JSONParser.parse(Array(input[..<split])).value else { return 0 }
    let arguments = split < input.endIndex ? String(decoding: input[(split + 1)...], as: UTF8.self) : ""
    // The loader keeps a declared schema only when it has no problems; ToolRunner validates against it.
    let problems = SchemaValidator.schemaProblems(schema)
    for problem in problems { _ = problem.message.count }
    switch SchemaValidator.parseArguments(arguments, schema: problems.isEmpty ? schema : nil) {
    case .success(let value): _ = value.jsonString
    case .failure(let error): _ = error.message.count
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 })
