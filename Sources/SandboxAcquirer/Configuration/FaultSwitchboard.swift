/// The fault switches in force now; read at each API call and notification, replaced through `PUT /sandbox/faults`.
actor FaultSwitchboard {
    private(set) var current: SandboxFaults

    init(_ initial: SandboxFaults) {
        current = initial
    }

    func replace(with faults: SandboxFaults) {
        current = faults
    }
}
