/// A store that could not be opened, read or written: a sentence for the user and a code for code.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable { case open, read, write, notFound, tooLarge }
    public var code: Code
    public var message: String
    public var description: String { message }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
