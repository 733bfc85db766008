import Testing
import TestSupport
@testable import Scheduler

/// ``TaskIDMap`` against a `Dictionary` under random inserts and removals. Most ids end soon, oldest
/// first; about one in a hundred lives long, so the window outgrows its limit and moves values to
/// the overflow; ids behind the window are set again now and then. Replays exactly from its seed:
/// random picks come from a sorted array of the live keys, never from a dictionary's (per-process)
/// iteration order.
@Suite struct SchedulerTaskIDMapTests {
    @Test(arguments: [42, 7, 2026] as [UInt64])
    func matchesDictionary(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var map = TaskIDMap<Int>()
        var reference: [TaskID: Int] = [:]
        var keys = SortedKeys()
        var longLived = Set<TaskID>()
        var nextID: UInt64 = 1
        for step in 0..<20_000 {
            let roll = rng.next(below: 100)
            if roll < 50 {
                let id = TaskID(nextID)
                nextID += 1
                map[id] = step
                reference[id] = step
                keys.insert(id)
                if rng.next(below: 100) == 0 { longLived.insert(id) }
            } else if roll < 97, !keys.isEmpty {
                // Mostly the oldest short-lived id ends; now and then any id, long-lived ones included.
                let victim = rng.next(below: 8) == 0
                    ? keys.ids[Int(rng.next(below: UInt64(keys.ids.count)))]
                    : keys.ids.first { !longLived.contains($0) } ?? keys.ids[0]
                keys.remove(victim)
                longLived.remove(victim)
                try #require(map.removeValue(forKey: victim) == reference.removeValue(forKey: victim), "seed \(seed), step \(step)")
            } else {
                let id = TaskID(rng.next(below: nextID + 5))
                map[id] = step
                reference[id] = step
                keys.insert(id)
            }
            // The first difference stops the run: its step replays from the seed.
            try #require(map.count == reference.count, "seed \(seed), step \(step)")
        }
        for id in 0...(nextID + 5) {
            #expect(map[TaskID(id)] == reference[TaskID(id)], "seed \(seed), id \(id)")
        }
        for id in keys.ids { map[id] = nil }
        #expect(map.isEmpty)
    }
}

/// The model's live keys in ascending order.
private struct SortedKeys {
    private(set) var ids: [TaskID] = []

    var isEmpty: Bool { ids.isEmpty }

    /// The index of `id`, or where it would go.
    private func index(of id: TaskID) -> Int {
        var low = 0, high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func insert(_ id: TaskID) {
        let i = index(of: id)
        if i == ids.count || ids[i] != id { ids.insert(id, at: i) }
    }

    mutating func remove(_ id: TaskID) {
        let i = index(of: id)
        if i < ids.count, ids[i] == id { ids.remove(at: i) }
    }
}
