extension SchedulerStateMachine {
    /// The live tasks of the machine: for each, an ``Entry`` (plain values read on every event) and its
    /// ``Details`` (spec and record) in the same slot of two arrays, and an index from id to slot (a
    /// ``TaskIDMap``: ids are sequential, so it needs no hashing).
    ///
    /// Why not `[TaskID: Entry]` with the spec and record inside: every read through a dictionary's
    /// getter copies the value (a dozen retains and releases for the strings and arrays) and every
    /// access hashes the id. The machine looks at every running task on every event (deadlines, the
    /// worst running task), so it names tasks by slot internally, reads entries that hold no references,
    /// and changes details in place; only events that name a task by id (`finished`, `cancel`...) go
    /// through the index, once.
    ///
    /// A slot freed by ``remove(_:)`` is reused by a later ``insert(_:_:)``; the arrays keep their
    /// high-water size. Value semantics as usual (copy-on-write arrays and dictionary).
    struct TaskTable: Sendable {
        typealias Slot = Int

        /// Not optionals, so the subscripts address an element in place (an optional's payload would be
        /// moved out and back on every change); free slots hold the `vacant` values (id 0: no task).
        private var entries: [Entry] = []
        private var details: [Details] = []
        private var free: [Slot] = []
        private var index = TaskIDMap<Slot>()

        private static let vacantEntry = Entry(
            id: TaskID(0), priority: 0, preemptible: false, timeout: nil, submittedAt: .zero, arrival: 0,
            declaredEstimate: nil, level: 0,
            readyOrder: 0, readySince: .zero)
        /// Empty strings and arrays: copying this costs no allocation and no reference counting.
        private static let vacantDetails = Details(
            spec: TaskSpec(name: ""),
            record: TaskRecord(id: TaskID(0), name: "", group: nil, priority: 0, preemptibility: .none, detail: nil,
                               state: .waiting, level: 0, submittedAt: .zero, transitions: [], levelHistory: []))

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

        /// The details in an occupied slot; reading copies them, changing them works in place.
        subscript(details slot: Slot) -> Details {
            get { details[slot] }
            _modify { yield &details[slot] }
        }

        /// Adds a task; returns its slot.
        mutating func insert(_ entry: Entry, _ details: Details) -> Slot {
            let slot: Slot
            if let reused = free.popLast() {
                slot = reused
                entries[slot] = entry
                self.details[slot] = details
            } else {
                slot = entries.count
                entries.append(entry)
                self.details.append(details)
            }
            index[entry.id] = slot
            return slot
        }

        /// Removes the task in an occupied slot and returns what it held.
        mutating func remove(_ slot: Slot) -> (Entry, Details) {
            let entry = entries[slot]
            entries[slot] = Self.vacantEntry
            var removed = Self.vacantDetails
            swap(&removed, &details[slot])
            index[entry.id] = nil
            free.append(slot)
            return (entry, removed)
        }
    }
}
