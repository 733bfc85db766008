/// Shortest-remaining-time-first computed offline: every task's arrival and CPU time known in advance,
/// `cores` tasks run at once (each on one core), no start-up or switching cost. The mixed-load
/// section's lower bound: no online scheduler knows more. (On one core SRPT's mean completion time is
/// optimal; on several it is the usual reference but not a strict bound: contrived arrivals can beat it.)
enum OfflineSRPT {
    struct Job {
        var arrival: Double
        var work: Double
    }

    /// The completion time of each job, in the order given.
    static func completions(of jobs: [Job], cores: Int) -> [Double] {
        var completion = [Double](repeating: 0, count: jobs.count)
        var remaining = jobs.map(\.work)
        let byArrival = jobs.indices.sorted { jobs[$0].arrival < jobs[$1].arrival }
        var next = 0 // into byArrival
        var active: [Int] = []
        var now = 0.0
        while next < byArrival.count || !active.isEmpty {
            if active.isEmpty { now = max(now, jobs[byArrival[next]].arrival) }
            while next < byArrival.count, jobs[byArrival[next]].arrival <= now {
                active.append(byArrival[next])
                next += 1
            }
            active.sort { remaining[$0] < remaining[$1] }
            let running = active.prefix(cores)
            let nextArrival = next < byArrival.count ? jobs[byArrival[next]].arrival : .infinity
            let step = min(nextArrival - now, running.map { remaining[$0] }.min() ?? .infinity)
            now += step
            for job in running { remaining[job] -= step }
            for job in running where remaining[job] <= 1e-9 { completion[job] = now }
            active.removeAll { remaining[$0] <= 1e-9 }
        }
        return completion
    }
}
