import Testing
import TestSupport
@testable import Scheduler

/// ``TaskIDMap`` against a `Dictionary` under random inserts and removals, including long-lived keys
/// that fall behind the window.
@Suite struct SchedulerTaskIDMapTests {
    @Test func matchesDictionary() {
        var rng = SplitMix64(seed: 42)
        var map = TaskIDMap<Int>()
        var reference: [TaskID: Int] = [:]
        var nextID: UInt64 = 1
        for step in 0..<20_000 {
            let roll = rng.next() % 10
            if roll < 5 {
                let id = TaskID(nextID)
                nextID += 1
                map[id] = step
                reference[id] = step
            } else if roll < 9, let id = reference.keys.randomElement(using: &rng) {
                // Mostly the oldest ids end; the others stay a long time.
                let victim = rng.next() % 4 == 0 ? id : reference.keys.min()!
                #expect(map.removeValue(forKey: victim) == reference.removeValue(forKey: victim))
            } else {
                let id = TaskID(rng.next() % (nextID + 5))
                map[id] = step
                reference[id] = step
            }
            #expect(map.count == reference.count)
        }
        for id in 0...(nextID + 5) {
            #expect(map[TaskID(id)] == reference[TaskID(id)])
        }
        for id in reference.keys { map[id] = nil }
        #expect(map.isEmpty)
    }
}
