import Collections

/// The runnable tasks that hold no worker (waiting to start, or paused), best first.
///
/// Algorithm: keys ordered by `(rank, order, token)`. The rank comes from the strategy (MLFQ level,
/// priority, estimate, or 0); the order breaks ties (arrival number, or the enqueue number for the
/// time-slicing strategies, so a task whose slice ran out goes to the back of its level). A key that is
/// not less than the last one added in order goes to the back of `inOrder`, a double-ended queue that stays
/// sorted; any other key goes into a binary min-heap (swift-collections `Heap`). The best key is the
/// better of the two fronts. Tasks mostly arrive in order (new tasks at one level, tasks re-queued at the
/// back of their level), and then adding and taking a key costs O(1) instead of the heap's O(log n): a
/// heap's `popMin` alone was a twentieth of the scheduler's time per task when 100k tasks waited.
///
/// Removal is lazy: the owner remembers the token of each task's live key, and a key whose token is no
/// longer live is stale and dropped when it reaches the front (see ``front``); ``compact(liveCount:isLive:)`` rebuilds
/// when stale keys outnumber live ones.
///
/// Invariant: every ready task has exactly one live key; no other task has one. `inOrder` is sorted.
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

    private var inOrder: Deque<Key> = []
    private var heap = Heap<Key>()

    private var count: Int { inOrder.count + heap.count }

    /// True when ``compact(liveCount:isLive:)`` would rebuild.
    func needsCompaction(liveCount: Int) -> Bool { count > 2 * liveCount + 64 }

    /// Adds a key.
    /// - Complexity: O(1) when it is not less than the last key added in order, else O(log n).
    mutating func insert(_ key: Key) {
        if let last = inOrder.last, key < last {
            heap.insert(key)
        } else {
            inOrder.append(key)
        }
    }

    /// True if the best key is the front of `inOrder` (else the heap's minimum).
    private var bestIsInOrder: Bool {
        guard let first = inOrder.first else { return false }
        guard let min = heap.min else { return true }
        return first < min
    }

    /// The best key, live or stale: the owner checks it and calls ``removeBest()`` to drop a stale one
    /// (a loop of the owner's, so that the check needs no closure over the owner's state).
    /// - Complexity: O(1).
    var front: Key? {
        bestIsInOrder ? inOrder.first : heap.min
    }

    /// Removes the best key (``front``).
    /// - Complexity: O(1) for a key added in order, else O(log n).
    mutating func removeBest() {
        if bestIsInOrder { inOrder.removeFirst() } else { _ = heap.popMin() }
    }

    /// Replaces the contents with `keys`.
    /// - Complexity: O(n).
    mutating func rebuild(_ keys: [Key]) {
        inOrder = []
        heap = Heap(keys)
    }

    /// Drops stale keys when they make up more than half of the keys.
    /// - Complexity: O(n) when it rebuilds, O(1) otherwise.
    mutating func compact(liveCount: Int, isLive: (Key) -> Bool) {
        guard needsCompaction(liveCount: liveCount) else { return }
        inOrder = Deque(inOrder.filter(isLive))
        heap = Heap(heap.unordered.filter(isLive))
    }
}
