import Collections

/// A map from ``TaskID`` to `Value` for keys that arrive roughly in id order (ids are handed out
/// sequentially and most tasks end soon after the ones submitted before them): a window of
/// consecutive ids, `window[i]` holding the value of id `base + i`, and a dictionary for the few
/// keys left behind the window.
///
/// Why not `[TaskID: Value]`: every access hashes the id (SipHash, with a seeded `Hasher`), and the
/// dictionary rehashes as it grows; with 100k tasks queued the hash lookups were the largest item in
/// the scheduler's profile. Here an access in the window is an index computation.
///
/// The window starts at the oldest id still present (leading empty positions are dropped) and ends
/// at the newest. So that one long-lived key does not keep the window growing with every later id,
/// the window is kept at most `2 * count + 1024` positions long: the excess oldest positions leave
/// the window and their values (if any) move to `overflow`. Every operation is amortized O(1).
struct TaskIDMap<Value>: Sendable where Value: Sendable {
    private var window = Deque<Value?>()
    /// The id of `window[0]`.
    private var base: UInt64 = 0
    private var overflow: [UInt64: Value] = [:]
    /// Values in `window` (not `nil`).
    private var windowCount = 0

    /// Number of keys with a value.
    var count: Int { windowCount + overflow.count }

    var isEmpty: Bool { count == 0 }

    subscript(id: TaskID) -> Value? {
        get {
            let raw = id.rawValue
            if raw >= base, raw - base < UInt64(window.count) { return window[Int(raw - base)] }
            return overflow.isEmpty ? nil : overflow[raw]
        }
        set {
            let raw = id.rawValue
            // Every id in `overflow` is below `base`: moving `base` up keeps them apart.
            if window.isEmpty, newValue != nil, raw > base { base = raw }
            if raw >= base {
                let offset = raw - base
                if offset < UInt64(window.count) {
                    let i = Int(offset)
                    windowCount += (newValue != nil ? 1 : 0) - (window[i] != nil ? 1 : 0)
                    window[i] = newValue
                } else if newValue != nil {
                    // Open positions up to this id (gaps stay empty).
                    while UInt64(window.count) < offset { window.append(nil) }
                    window.append(newValue)
                    windowCount += 1
                } else {
                    return
                }
                trim()
            } else {
                overflow[raw] = newValue
            }
        }
    }

    /// Removes the value of `id` and returns it.
    @discardableResult
    mutating func removeValue(forKey id: TaskID) -> Value? {
        let value = self[id]
        if value != nil { self[id] = nil }
        return value
    }

    /// Drops empty leading positions and moves the oldest values out of an oversized window.
    private mutating func trim() {
        while let first = window.first, first == nil {
            window.removeFirst()
            base += 1
        }
        while window.count > 2 * windowCount + 1024, let first = window.popFirst() {
            if let first {
                overflow[base] = first
                windowCount -= 1
            }
            base += 1
        }
        while let first = window.first, first == nil {
            window.removeFirst()
            base += 1
        }
    }
}
