import Testing
import TestSupport
@testable import Scheduler

/// ``ReadyQueue`` against a sorted array of the live keys, under random inserts (mostly in order, as
/// tasks arrive; now and then out of order, as a paused task keeps its place or a better rank arrives),
/// stale keys (a task that started or ended) and compaction. Replays exactly from its seed.
@Suite struct SchedulerReadyQueueTests {
    @Test(arguments: [42, 7, 2026] as [UInt64])
    func givesTheBestLiveKeyLikeASortedList(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var queue = ReadyQueue()
        var live: [ReadyQueue.Key] = []  // sorted
        var stale = Set<UInt64>()
        var token: UInt64 = 0
        var inOrderCount = 0
        /// The owner's loop: drop stale keys at the front, then the best live one.
        func best() -> ReadyQueue.Key? {
            while let front = queue.front {
                if !stale.contains(front.token) { return front }
                queue.removeBest()
            }
            return nil
        }
        for _ in 0..<20_000 {
            let roll = rng.next(below: 100)
            if roll < 45 {
                token += 1
                // Most keys come in order (rank 0 or the rank of the last one, a later order); some do not.
                let outOfOrder = rng.next(below: 10) == 0
                let rank = outOfOrder ? Int64(rng.next(below: 3)) : (live.last?.rank ?? 0)
                let order = outOfOrder ? rng.next(below: token) : token
                let key = ReadyQueue.Key(rank: rank, order: order, token: token, id: TaskID(token), slot: Int(token))
                if let last = live.last, !(key < last) { inOrderCount += 1 }
                queue.insert(key)
                live.insert(key, at: live.firstIndex { key < $0 } ?? live.endIndex)
            } else if roll < 80 {
                // The best starts.
                let got = best()
                #expect(got == live.first)
                if got != nil {
                    queue.removeBest()
                    live.removeFirst()
                }
            } else if roll < 97, !live.isEmpty {
                // Any task leaves the queue by its key going stale (it ended, or was re-queued with a new key).
                let victim = live.remove(at: Int(rng.next(below: UInt64(live.count))))
                stale.insert(victim.token)
            } else {
                queue.compact(liveCount: live.count) { !stale.contains($0.token) }
            }
            #expect(best() == live.first)
        }
        // Both paths were taken.
        #expect(inOrderCount > 1000 && inOrderCount < Int(token))
        while let key = best() {
            #expect(key == live.first)
            queue.removeBest()
            live.removeFirst()
        }
        #expect(live.isEmpty)
    }
}
