import Foundation

/// The mail server `dev` runs: `scripts/smtp_sink.py` (Debian's python3-aiosmtpd, installed with
/// apt-get when missing), which writes every message it gets to a folder as an `.eml` file.
struct DevMailSink {
    let port: Int
    let directory: String
    private let process: Process

    /// Starts the sink, or returns nil (saying why) when it cannot run here: `dev` then queues
    /// email without sending it.
    static func start(port: Int, directory: String) -> DevMailSink? {
        let script = "scripts/smtp_sink.py"
        guard FileManager.default.fileExists(atPath: script) else {
            say("No \(script) here (run dev from the repository): email is queued, not sent.")
            return nil
        }
        guard hasAiosmtpd() || install() else {
            say("python3-aiosmtpd could not be installed: email is queued, not sent.")
            return nil
        }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The sink writes its port here once it listens: a port already taken makes it exit instead.
        let portFile = directory + "/.sink-port"
        try? FileManager.default.removeItem(atPath: portFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, "--port", String(port), "--port-file", portFile, "--dir", directory]
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            say("The mail sink did not start (\(error)): email is queued, not sent.")
            return nil
        }
        for _ in 0..<200 where process.isRunning && !FileManager.default.fileExists(atPath: portFile) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard process.isRunning, FileManager.default.fileExists(atPath: portFile) else {
            if process.isRunning { process.terminate() }
            say("The mail sink could not listen on port \(port) (taken? set MOVIX_DEV_SMTP_PORT): email is queued, not sent.")
            return nil
        }
        return DevMailSink(port: port, directory: directory, process: process)
    }

    /// What the worker sends through.
    var url: String { "smtp://127.0.0.1:\(port)?starttls=never" }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    private static func hasAiosmtpd() -> Bool {
        run("/usr/bin/python3", ["-c", "import aiosmtpd"])
    }

    private static func install() -> Bool {
        say("Installing python3-aiosmtpd (the development mail sink) with apt-get...")
        return run("/usr/bin/env", ["bash", "-c", "(apt-get install -y python3-aiosmtpd || (apt-get update && apt-get install -y python3-aiosmtpd)) >/dev/null 2>&1"])
            && hasAiosmtpd()
    }

    private static func run(_ executable: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["DEBIAN_FRONTEND": "noninteractive"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
