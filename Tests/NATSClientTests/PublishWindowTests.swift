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
        try await Task.sleep(for: .milliseconds(20))
        let second = Task {
            try await window.acquire()
            await order.record(2)
        }
        try await Task.sleep(for: .milliseconds(20))
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
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        window.release()
        #expect(window.available == 1)
    }
}

private actor OrderRecorder {
    var values: [Int] = []
    func record(_ value: Int) { self.values.append(value) }
}
