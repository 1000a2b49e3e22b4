import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster in a project folder, for development and tests: installed with
/// apt when missing, initialised on first use, started on a loopback port, trusted locally.
/// PostgreSQL refuses to run as root, so as root every server command runs as `postgres`.
public struct LocalPostgresCluster: Sendable {
    public let dataDirectory: String
    public let port: Int
    public let logFile: String

    public init(dataDirectory: String, port: Int) {
        let requested = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.dataDirectory = Self.reachableByPostgres(requested)
        self.port = port
        self.logFile = self.dataDirectory + ".log"
    }

    /// The `postgres` user must be able to walk down to the data directory. A checkout under a
    /// private home folder (mode 700) does not allow that, so the cluster then lives in /var/tmp,
    /// under a name derived from the requested path so that each checkout keeps its own.
    static func reachableByPostgres(_ path: String) -> String {
        guard getuid() == 0 else { return path }
        var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
        while ancestor.path != "/" {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: ancestor.path),
               let permissions = attributes[.posixPermissions] as? Int, permissions & 0o001 == 0 {
                let name = path.split(separator: "/").joined(separator: "_")
                return "/var/tmp/movix-billing/" + name
            }
            ancestor = ancestor.deletingLastPathComponent()
        }
        return path
    }

    /// The URL of a database in this cluster.
    public func url(database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Makes sure the cluster exists and runs; returns false when it was already running.
    @discardableResult
    public func start() throws -> Bool {
        let binaries = try Self.binaryDirectory()
        if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            // initdb wants an empty directory it owns, reachable through folders it may enter.
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: URL(fileURLWithPath: dataDirectory).deletingLastPathComponent().path)
            try handOverToPostgres(dataDirectory)
            try runAsPostgres(binaries + "/initdb", ["-D", dataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        }
        if (try? runAsPostgres(binaries + "/pg_ctl", ["-D", dataDirectory, "status"], quiet: true)) != nil { return false }
        if !FileManager.default.fileExists(atPath: logFile) {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        }
        try handOverToPostgres(logFile)
        // TCP on loopback only, no Unix socket: nothing outside this machine, no path-length limits.
        let options = "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 -c fsync=off -c synchronous_commit=off"
        do {
            // The server inherits pg_ctl's output; a pipe would never reach end-of-file.
            try runAsPostgres(binaries + "/pg_ctl", ["-D", dataDirectory, "-l", logFile, "-o", options, "-w", "-t", "60", "start"], detached: true)
        } catch {
            throw ClusterError(message: "PostgreSQL did not start; see \(logFile)")
        }
        return true
    }

    /// Creates a database unless it exists, optionally as a copy of a template database.
    public func createDatabase(_ name: String, template: String? = nil) throws {
        let psql = try Self.binaryDirectory() + "/psql"
        let base = ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc"]
        let exists = try Self.run(psql, base + ["SELECT 1 FROM pg_database WHERE datname = '\(name)'"])
        guard exists.trimmingCharacters(in: .whitespacesAndNewlines) != "1" else { return }
        let copy = template.map { " TEMPLATE \"\($0)\"" } ?? ""
        try Self.run(psql, base + ["CREATE DATABASE \"\(name)\"\(copy)"])
    }

    /// The names of the databases that start with `prefix`.
    public func databases(prefixed prefix: String) throws -> [String] {
        let psql = try Self.binaryDirectory() + "/psql"
        let names = try Self.run(psql, [
            "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-tAc",
            "SELECT datname FROM pg_database WHERE starts_with(datname, '\(prefix)')",
        ])
        return names.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Drops a database if it exists.
    public func dropDatabase(_ name: String) throws {
        let psql = try Self.binaryDirectory() + "/psql"
        try Self.run(psql, ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-c", "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"])
    }

    /// Stops the cluster, waiting for it to shut down.
    public func stop() throws {
        try runAsPostgres(try Self.binaryDirectory() + "/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"])
    }

    /// Where Debian keeps the newest installed PostgreSQL's server programs; installs it if absent.
    static func binaryDirectory() throws -> String {
        if let found = newestInstalledVersion() { return found }
        FileHandle.standardError.write(Data("PostgreSQL is not installed; installing it with apt-get...\n".utf8))
        try run("/usr/bin/env", ["bash", "-c", "(apt-get install -y postgresql || (apt-get update && apt-get install -y postgresql)) >/dev/null"], environment: ["DEBIAN_FRONTEND": "noninteractive"])
        guard let found = newestInstalledVersion() else { throw ClusterError(message: "PostgreSQL could not be installed with apt-get") }
        return found
    }

    private static func newestInstalledVersion() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
    }

    private var runningAsRoot: Bool { getuid() == 0 }

    private func handOverToPostgres(_ path: String) throws {
        guard runningAsRoot else { return }
        try Self.run("/bin/chown", ["-R", "postgres:postgres", path])
    }

    private func runAsPostgres(_ program: String, _ arguments: [String], quiet: Bool = false, detached: Bool = false) throws {
        if runningAsRoot {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments, quiet: quiet, detached: detached)
        } else {
            try Self.run(program, arguments, quiet: quiet, detached: detached)
        }
    }

    /// Runs a program to completion and returns its output. Uses posix_spawn and waitpid directly:
    /// Foundation's `Process` can miss the exit of a child whose grandchild (the server) lives on.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:], quiet: Bool = false, detached: Bool = false) throws -> String {
        var pipe: [Int32] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw ClusterError(message: "pipe() failed") }
        // Other threads spawn programs too (tests run in parallel): our pipe must not leak into
        // their children, and theirs not into ours. A leaked write end held by a long-lived
        // process (the PostgreSQL server outlives `pg_ctl start`) means a read that never ends.
        _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // A server started by the child inherits its output; it must not be our pipe, or the pipe
        // never reaches end-of-file.
        if detached {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // After the dup2s above, which need the pipe open; this closes both of its ends too.
        Self.closeInheritedDescriptors(&actions)
        // Run from a directory every user may enter, or `postgres` fails on the caller's cwd.
        let argv = (["/bin/sh", "-c", "cd / && exec \"$0\" \"$@\"", program] + arguments).map { strdup($0) } + [nil]
        let environ = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + environ).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
        close(pipe[1])
        guard spawned == 0 else {
            close(pipe[0])
            throw ClusterError(message: "could not start \(program): \(String(cString: strerror(spawned)))")
        }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(pipe[0], &buffer, buffer.count)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        close(pipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = String(decoding: output, as: UTF8.self)
        // WIFEXITED and WEXITSTATUS, which Swift does not import as functions.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw ClusterError(message: quiet ? "\(program) failed" : "\(([program] + arguments).joined(separator: " ")) failed:\n\(text)")
        }
        return text
    }

    /// Makes the child close every descriptor above stderr: whatever the rest of the process had
    /// open (another spawn's pipe, a socket) must not live on in a server started from here.
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` is not in Swift's Glibc module, hence dlsym.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: AddClosefrom.self)(&actions, 3)
    }

    /// A cluster command that did not succeed, with its output.
    public struct ClusterError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
