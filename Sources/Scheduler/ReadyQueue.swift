import Collections

/// The runnable tasks that hold no worker (waiting to start, or paused), best first.
///
/// Algorithm: a binary min-heap (swift-collections `Heap`) of ``Key``s ordered by
/// `(rank, order, token)`. The rank comes from the strategy (MLFQ level, priority, estimate, or 0);
/// the order breaks ties (arrival number, or the enqueue number for the time-slicing strategies, so a
/// task whose slice ran out goes to the back of its level). Removal is lazy: the owner remembers the
/// token of each task's live key, and a key whose token is no longer live is stale and dropped when it
/// reaches the top; ``compact(isLive:)`` rebuilds the heap when stale keys outnumber live ones.
///
/// Invariant: every ready task has exactly one live key; no other task has one.
struct ReadyQueue: Sendable {
    struct Key: Comparable, Sendable {
        var rank: Int64
        var order: UInt64
        var token: UInt64
        var id: TaskID
        /// Where the task sits in the machine's task table.
        var slot: Int

        static func < (a: Key, b: Key) -> Bool {
            if a.rank != b.rank { return a.rank < b.rank }
            if a.order != b.order { return a.order < b.order }
            return a.token < b.token
        }
    }

    private var heap = Heap<Key>()

    /// True when ``compact(liveCount:isLive:)`` would rebuild.
    func needsCompaction(liveCount: Int) -> Bool { heap.count > 2 * liveCount + 64 }

    /// Adds a key.
    /// - Complexity: O(log n).
    mutating func insert(_ key: Key) {
        heap.insert(key)
    }

    /// The best live key, dropping stale keys on the way.
    /// - Complexity: amortized O(log n) per stale key dropped; O(1) otherwise.
    mutating func best(isLive: (Key) -> Bool) -> Key? {
        while let top = heap.min {
            if isLive(top) { return top }
            heap.removeMin()
        }
        return nil
    }

    /// Removes the best key (call after ``best(isLive:)`` returned it).
    /// - Complexity: O(log n).
    mutating func removeBest() {
        _ = heap.popMin()
    }

    /// Replaces the contents with `keys`.
    /// - Complexity: O(n).
    mutating func rebuild(_ keys: [Key]) {
        heap = Heap(keys)
    }

    /// Drops stale keys when they make up more than half of the heap.
    /// - Complexity: O(n) when it rebuilds, O(1) otherwise.
    mutating func compact(liveCount: Int, isLive: (Key) -> Bool) {
        guard needsCompaction(liveCount: liveCount) else { return }
        heap = Heap(heap.unordered.filter(isLive))
    }
}
