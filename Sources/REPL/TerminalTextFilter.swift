/// Makes text from the model, a tool or a file safe to show on a terminal: it keeps printable
/// characters, newline and tab, and removes every other control character and every escape sequence
/// with its parameters, so such text cannot set the clipboard (OSC 52), retitle the window, clear
/// the screen, move the cursor or hide what follows it.
///
/// The rules, over Unicode scalars (ECMA-48, as xterm reads them):
/// - ESC starts an escape sequence. `ESC [` is a CSI: parameters and intermediates up to a final
///   byte 0x40-0x7E. `ESC ]` (OSC), `ESC P` (DCS), `ESC X` (SOS), `ESC ^` (PM) and `ESC _` (APC)
///   start a control string that runs to BEL, to ST (`ESC \` or U+009C), or to CAN/SUB. Any other
///   escape sequence is intermediates 0x20-0x2F and one final 0x30-0x7E.
/// - The C1 controls U+0080-U+009F are removed; U+009B, U+009D, U+0090, U+0098, U+009E and U+009F
///   start a CSI or a control string as their ESC forms do.
/// - The C0 controls other than newline and tab, and DEL, are removed everywhere.
/// - A sequence is dropped whole, introducer included; an unexpected character inside one (a
///   non-ASCII letter in a CSI, say) ends it and is read again as text. CAN and SUB cancel one.
///
/// Text may arrive in pieces that split a sequence anywhere: `filter` keeps the state between calls,
/// so the result does not depend on where the pieces were cut. Nothing that reaches the output is a
/// control character, whatever the input.
///
/// - Complexity: O(n) in the scalars of each piece; constant memory between pieces.
public struct TerminalTextFilter: Sendable {
    private enum State: Sendable {
        case text
        /// After ESC.
        case escape
        /// After ESC and one or more intermediates.
        case escapeIntermediate
        /// Inside a CSI, before its final byte.
        case controlSequence
        /// Inside an OSC, DCS, SOS, PM or APC.
        case controlString
        /// After ESC inside a control string: `\` ends it (ST), anything else begins a new escape.
        case controlStringEscape
    }

    private var state = State.text

    public init() {}

    /// The safe part of the next piece of a stream.
    public mutating func filter(_ piece: String) -> String {
        var kept = String.UnicodeScalarView()
        for scalar in piece.unicodeScalars {
            if let shown = step(scalar) { kept.append(shown) }
        }
        return String(kept)
    }

    /// The stream ended: a sequence still open is dropped and the next text starts afresh.
    public mutating func finish() {
        state = .text
    }

    /// `text` whole, made safe.
    public static func clean(_ text: String) -> String {
        var filter = TerminalTextFilter()
        return filter.filter(text)
    }

    private static let escape: UInt32 = 0x1B
    private static let bell: UInt32 = 0x07
    /// CAN and SUB cancel a sequence.
    private static func cancels(_ v: UInt32) -> Bool { v == 0x18 || v == 0x1A }

    /// One scalar in; the scalar to show, if any.
    private mutating func step(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let v = scalar.value
        switch state {
        case .text:
            return text(scalar)
        case .escape:
            switch v {
            case 0x5B: state = .controlSequence  // [
            case 0x5D, 0x50, 0x58, 0x5E, 0x5F: state = .controlString  // ] P X ^ _
            case 0x20...0x2F: state = .escapeIntermediate
            case 0x30...0x7E: state = .text
            case Self.escape: break
            default: return endAndReread(scalar)
            }
        case .escapeIntermediate:
            switch v {
            case 0x20...0x2F: break
            case 0x30...0x7E: state = .text
            default: return endAndReread(scalar)
            }
        case .controlSequence:
            switch v {
            case 0x20...0x3F: break
            case 0x40...0x7E: state = .text
            default: return endAndReread(scalar)
            }
        case .controlString:
            switch v {
            case Self.bell, 0x9C: state = .text
            case Self.escape: state = .controlStringEscape
            case _ where Self.cancels(v): state = .text
            default: break
            }
        case .controlStringEscape:
            if v == 0x5C {  // \ : ST
                state = .text
            } else {
                state = .escape
                return step(scalar)
            }
        }
        return nil
    }

    /// A character that cannot continue the open sequence: the sequence ends, dropped, and the
    /// character is read as text (so a control character or a new ESC is still handled).
    private mutating func endAndReread(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        state = .text
        return text(scalar)
    }

    private mutating func text(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar.value {
        case 0x0A, 0x09:
            return scalar
        case Self.escape:
            state = .escape
        case 0x9B:
            state = .controlSequence
        case 0x9D, 0x90, 0x98, 0x9E, 0x9F:
            state = .controlString
        case 0x00...0x1F, 0x7F...0x9F:
            break
        default:
            return scalar
        }
        return nil
    }
}
