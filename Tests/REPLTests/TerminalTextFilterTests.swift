import Testing
@testable import REPL

@Suite struct TerminalTextFilterTests {
    private let esc = "\u{1b}"

    @Test func clipboardWriteWithBellIsRemoved() {
        #expect(TerminalTextFilter.clean("a\(esc)]52;c;ZWNobyBwd25lZA==\u{07}b") == "ab")
    }

    @Test func clipboardWriteWithStringTerminatorIsRemoved() {
        #expect(TerminalTextFilter.clean("a\(esc)]52;c;ZWNobyBwd25lZA==\(esc)\\b") == "ab")
        #expect(TerminalTextFilter.clean("a\u{9d}52;c;ZWNobw==\u{9c}b") == "ab", "the C1 forms of OSC and ST")
    }

    @Test func titleClearsCursorMovesAndHiddenTextAreRemoved() {
        #expect(TerminalTextFilter.clean("\(esc)]0;pwned\u{07}x") == "x")
        #expect(TerminalTextFilter.clean("before\(esc)[2J\(esc)[Hafter") == "beforeafter")
        #expect(TerminalTextFilter.clean("\(esc)[8msecret\(esc)[0m shown") == "secret shown", "the text stays, visibly")
        #expect(TerminalTextFilter.clean("\u{9b}31mred") == "red", "the C1 form of CSI")
        #expect(TerminalTextFilter.clean("\(esc)Pq#0;2;0;0;0\(esc)\\ok") == "ok", "DCS")
        #expect(TerminalTextFilter.clean("\(esc)_apc\(esc)\\\(esc)^pm\u{07}\(esc)Xsos\(esc)\\ok") == "ok")
        #expect(TerminalTextFilter.clean("\(esc)7\(esc)(B\(esc)#8ok") == "ok", "two- and three-character escapes")
    }

    @Test func controlCharactersGoButNewlineAndTabStay() {
        #expect(TerminalTextFilter.clean("a\rb\u{08}c\u{00}d\u{7f}e\u{85}f\u{07}g\n\th") == "abcdefg\n\th")
    }

    @Test func textAndUTF8StayIntact() {
        let text = "Héllo — ça va? 🌍 日本語 👩‍👩‍👧 [1m] ]52 \\ done\n"
        #expect(TerminalTextFilter.clean(text) == text)
    }

    @Test func anOpenSequenceEndsAtAnUnexpectedCharacterWhichIsKept() {
        #expect(TerminalTextFilter.clean("\(esc)[12é") == "é")
        #expect(TerminalTextFilter.clean("\(esc)[1;\nnext") == "\nnext")
        #expect(TerminalTextFilter.clean("\(esc)]52;c;abc\u{18}after") == "after", "CAN cancels a control string")
        #expect(TerminalTextFilter.clean("\(esc)]0;t\(esc)[2Jx") == "x", "ESC inside a string starts a new sequence")
    }

    /// Every way of cutting the input in two gives the same output as the whole.
    @Test func splitAnywhereGivesTheSameResult() {
        let input = "Hé\(esc)]52;c;ZWNobw==\(esc)\\llo\(esc)[2J 🌍\u{9b}1;31mx\(esc)]0;title\u{07}\r\ndone\t\(esc)(B."
        let whole = TerminalTextFilter.clean(input)
        #expect(whole == "Héllo 🌍x\ndone\t.")
        let scalars = Array(input.unicodeScalars)
        for cut in 0...scalars.count {
            var filter = TerminalTextFilter()
            var head = String.UnicodeScalarView(), tail = String.UnicodeScalarView()
            head.append(contentsOf: scalars[..<cut])
            tail.append(contentsOf: scalars[cut...])
            let out = filter.filter(String(head)) + filter.filter(String(tail))
            #expect(out == whole, "cut at \(cut)")
        }
    }

    @Test func finishDropsAnOpenSequence() {
        var filter = TerminalTextFilter()
        #expect(filter.filter("x\(esc)]52;c;") == "x")
        filter.finish()
        #expect(filter.filter("visible") == "visible")
    }

    /// Whatever comes in, nothing that goes out is a control character.
    @Test func randomInputNeverYieldsAControlCharacter() {
        var rng = SplitMix64(seed: 9)
        let alphabet: [Unicode.Scalar] = ["\u{1b}", "[", "]", "P", "\\", "\u{07}", "\u{9b}", "\u{9c}", "\u{9d}", "\u{18}",
                                          "\u{0d}", "\n", "\t", "\u{00}", "\u{7f}", "\u{85}", "a", "1", ";", "m", "é", "🌍", "(", "#"]
        for _ in 0..<2_000 {
            var view = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 24) { view.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            var filter = TerminalTextFilter()
            let out = filter.filter(String(view))
            #expect(!out.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) },
                    "\(String(view).debugDescription) gave \(out.debugDescription)")
        }
    }
}

/// A small seeded generator, so a failing input can be found again.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
