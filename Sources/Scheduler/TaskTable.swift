extension SchedulerStateMachine {
    /// The live tasks of the machine: for each, an ``Entry`` (plain values read on every event) and its
    /// ``TaskRecord`` in the same slot of two arrays, and an index from id to slot (a
    /// ``TaskIDMap``: ids are sequential, so it needs no hashing).
    ///
    /// Why not `[TaskID: Entry]` with the record inside: every read through a dictionary's
    /// getter copies the value (a dozen retains and releases for the strings and arrays) and every
    /// access hashes the id. The machine looks at every running task on every event (deadlines, the
    /// worst running task), so it names tasks by slot internally, reads entries that hold no references,
    /// and changes records in place; only events that name a task by id (`finished`, `cancel`...) go
    /// through the index, once.
    ///
    /// A slot freed by ``remove(_:)`` is reused by a later ``insert(_:_:)``; the arrays keep their
    /// high-water size. Value semantics as usual (copy-on-write arrays and dictionary).
    struct TaskTable: Sendable {
        typealias Slot = Int

        /// Not optionals, so the subscripts address an element in place (an optional's payload would be
        /// moved out and back on every change); free slots hold the `vacant` values (id 0: no task).
        private var entries: [Entry] = []
        private var records: [TaskRecord] = []
        private var free: [Slot] = []
        private var index = TaskIDMap<Slot>()

        private static let vacantEntry = Entry(id: TaskID(0), priority: 0, preemptible: false, cpu: .light, cpuDeclared: false, timeout: nil, estimate: nil, level: 0, order: 0, now: 0)
        /// Empty strings and arrays: copying this costs no allocation and no reference counting.
        private static let vacantRecord = TaskRecord(id: TaskID(0), spec: TaskSpec(name: ""), level: 0, submittedAt: .zero)

        /// Live tasks.
        var count: Int { index.count }

        /// The slot of a live task.
        func slot(of id: TaskID) -> Slot? { index[id] }

        /// True if `slot` holds a live task.
        func isOccupied(_ slot: Slot) -> Bool { slot < entries.count && entries[slot].id.rawValue != 0 }

        /// The occupied slots, in slot order. - Complexity: O(slots).
        var slots: [Slot] { entries.indices.filter { entries[$0].id.rawValue != 0 } }

        /// The entry in an occupied slot.
        subscript(slot: Slot) -> Entry {
            get { entries[slot] }
            _modify { yield &entries[slot] }
        }

        /// The record in an occupied slot; reading copies it, changing it works in place.
        subscript(record slot: Slot) -> TaskRecord {
            get { records[slot] }
            _modify { yield &records[slot] }
        }

        /// Adds a task; returns its slot.
        mutating func insert(_ entry: Entry, _ record: consuming TaskRecord) -> Slot {
            let slot: Slot
            if let reused = free.popLast() {
                slot = reused
                entries[slot] = entry
                records[slot] = consume record
            } else {
                slot = entries.count
                if slot == entries.capacity { grow() }
                entries.append(entry)
                records.append(consume record)
            }
            index[entry.id] = slot
            return slot
        }

        /// Grows both arrays fourfold instead of the usual twofold. Growing copies every entry and record
        /// into fresh memory, and the pages of a fresh block fault in one by one as they are touched; capacity
        /// that is reserved and not yet used costs address space only. With 100k tasks queued at once, doubling
        /// touched about twice the final size (page faults and copies were about a seventh of the time per
        /// task); growing fourfold touches about 1.33 times.
        private mutating func grow() {
            let capacity = max(64, entries.count * 4)
            entries.reserveCapacity(capacity)
            records.reserveCapacity(capacity)
        }

        /// Removes the task in an occupied slot and returns its record.
        mutating func remove(_ slot: Slot) -> TaskRecord {
            index[entries[slot].id] = nil
            entries[slot] = Self.vacantEntry
            var removed = Self.vacantRecord
            swap(&removed, &records[slot])
            free.append(slot)
            return removed
        }
    }
}
