import NATSTestSupport
import Testing

@testable import NATSClient

struct PublishWindowTests {
    @Test func permitsAreBoundedAndReleasedToWaitersInOrder() async throws {
        let window = PublishWindow(size: 2)
        try await window.acquire()
        try await window.acquire()
        #expect(window.available == 0)
        let order = OrderRecorder()
        let first = Task {
            try await window.acquire()
            await order.record(1)
        }
        try await Self.waitUntil(window, hasWaiting: 1)
        let second = Task {
            try await window.acquire()
            await order.record(2)
        }
        try await Self.waitUntil(window, hasWaiting: 2)
        #expect(await order.values.isEmpty)
        window.release()
        try await first.value
        window.release()
        try await second.value
        #expect(await order.values == [1, 2])
        window.release()
        window.release()
        #expect(window.available == 2)
    }

    @Test func cancelledWaiterThrowsAndKeepsNoPermit() async throws {
        let window = PublishWindow(size: 1)
        try await window.acquire()
        let waiter = Task { try await window.acquire() }
        try await Self.waitUntil(window, hasWaiting: 1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        window.release()
        #expect(window.available == 1)
    }

    /// Waits until `count` tasks wait for a permit (the event the tests order on), at most 10 s.
    static func waitUntil(_ window: PublishWindow, hasWaiting count: Int) async throws {
        try await eventually("\(count) tasks waiting for a permit", poll: .milliseconds(1)) { window.waiting >= count }
    }
}

private actor OrderRecorder {
    var values: [Int] = []
    func record(_ value: Int) { self.values.append(value) }

}
