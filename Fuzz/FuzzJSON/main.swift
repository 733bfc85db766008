// libFuzzer target: the positioned JSON parser (tools.d files, tool arguments). Run by scripts/fuzz.
import Foundation
import FuzzDriver
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let document = try? JSONParser.parse(bytes) else { return 0 }
    // What the tools.d loader does with a document: positions of members, the value as JSON text.
    for path in document.keyPositions.keys { _ = document.position(of: path + "/x") }
    let text = document.value.jsonString
    // The encoder's text is JSON: it must parse again.
    if (try? JSONParser.parse(text)) == nil { fatalError("jsonString is not JSON: \(text)") }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 })
