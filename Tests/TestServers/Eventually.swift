/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held (checked once
/// more at the deadline). For tests that wait on something another process or task does.
public func eventually(_ timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}
