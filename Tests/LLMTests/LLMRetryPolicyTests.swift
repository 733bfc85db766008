import Foundation
import Testing
@testable import HTTP
import JSON
@testable import LLM

private func policy(random: Double = 0, now: Date = Date(timeIntervalSince1970: 1_445_412_480)) -> RetryPolicy {
    RetryPolicy(random: { random }, sleep: { _ in }, now: { now })
}

@Test func backoffDoublesUpToTheCap() {
    let delays = (0..<7).map { policy().delay(afterRetries: $0) }
    #expect(delays == [0.5, 1, 2, 4, 8, 8, 8].map { Duration.seconds($0) })
}

@Test func jitterTakesUpToAQuarterOff() {
    #expect((policy(random: 0.999_999).delay(afterRetries: 0) / .seconds(1)).isApproximately(0.375))
    #expect((policy(random: 0.5).delay(afterRetries: 1) / .seconds(1)).isApproximately(0.875))
}

@Test func configuredDelaysAreUsed() {
    let fast = RetryPolicy(maxRetries: 5, initialDelay: .milliseconds(10), maxDelay: .milliseconds(30), random: { 0 })
    #expect((0..<4).map { fast.delay(afterRetries: $0) } == [.milliseconds(10), .milliseconds(20), .milliseconds(30), .milliseconds(30)])
}

@Test func retryAfterIsHonouredWithinSixtySeconds() {
    #expect(policy().delay(afterRetries: 0, headers: ["retry-after": "3"]) == .seconds(3))
    #expect(policy().delay(afterRetries: 0, headers: ["retry-after": "1.5"]) == .seconds(1.5))
    #expect(policy().delay(afterRetries: 0, headers: ["retry-after-ms": "250"]) == .milliseconds(250))
    #expect(policy().delay(afterRetries: 0, headers: ["retry-after-ms": "250", "retry-after": "9"]) == .milliseconds(250))
    // Zero, negative, too long or unreadable: the backoff applies.
    for value in ["0", "-1", "61", "soon"] {
        #expect(policy().delay(afterRetries: 1, headers: ["retry-after": value]) == .seconds(1), "\(value)")
    }
}

@Test func retryAfterTooLargeForADurationFallsBackToTheBackoff() {
    // `Duration.seconds(1e300)` traps: a server's header must not reach it.
    for value in ["1e300", "-1e300", "1e21", "inf", "nan", "1.7976931348623157e308"] {
        #expect(policy().delay(afterRetries: 1, headers: ["retry-after": value]) == .seconds(1), "\(value)")
        #expect(policy().delay(afterRetries: 1, headers: ["retry-after-ms": value]) == .seconds(1), "\(value)")
    }
}

@Test func retryAfterAsHTTPDate() {
    let now = Date(timeIntervalSince1970: 1_445_412_470)  // 10 s before Wed, 21 Oct 2015 07:28:00 GMT
    let delay = policy(now: now).delay(afterRetries: 0, headers: ["retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"])
    #expect((delay / .seconds(1)).isApproximately(10))
    let past = policy(now: now.addingTimeInterval(100)).delay(afterRetries: 0, headers: ["retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"])
    #expect(past == .seconds(0.5))
}

@Test func retryableStatuses() {
    let p = policy()
    #expect([408, 409, 429, 500, 502, 503, 504].allSatisfy { p.shouldRetry(status: $0, headers: [:]) })
    #expect(![400, 401, 403, 404, 422].contains { p.shouldRetry(status: $0, headers: [:]) })
    #expect(!p.shouldRetry(status: 503, headers: ["x-should-retry": "false"]))
    #expect(p.shouldRetry(status: 400, headers: ["x-should-retry": "true"]))
}

extension Double {
    func isApproximately(_ other: Double) -> Bool { abs(self - other) < 1e-6 }
}
