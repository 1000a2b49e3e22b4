"""Event-delivery benchmark (issue 9), driven by scripts/bench-events.

1. starts a PostgreSQL cluster of its own under .data/bench-events with the server's default
   settings (fsync on, as in production), as the `postgres` user, on a free port (pgcluster.py);
2. starts a local webhook receiver (a process of its own: this file's `receive` mode, Python's
   ThreadingHTTPServer, HTTP/1.1 keep-alive) that records, per request, its arrival time and the
   envelope's id, subscription_id, sequence and occurred_at, and answers 200 with an empty body;
3. throughput, for each worker count (1, then 2): a fresh database (`movix-billing migrate`), one
   endpoint receiving `*`, N `subscription.renewed` events preloaded with SQL (over S
   subscriptions, in round order), then K `movix-billing worker` processes; the time from their
   start until the receiver has all N events (by unique id). Verifies every event arrived, each
   subscription's in sequence order, and every webhook message is delivered;
4. latency at a fixed rate, for each worker count: the workers running, a generator (one
   long-lived psql fed on stdin) commits R events/s for T seconds in transactions of 5 events,
   each with `pg_notify('movix_events', '')` as the service's own transactions send; latency =
   arrival at the receiver - occurred_at (one machine, one clock). Goal: p99 < 100 ms at 500/s;
5. runs pgbench -N on the same cluster as the reference.

CPU seconds of the workers, PostgreSQL, the receiver and the generator are read from /proc
around each measured phase, so a reader can tell what the figures are limited by (the
receiver is one Python process: near one core busy means it, not the service, is the limit),
and pg_stat_activity is sampled to show what the workers' connections wait on. `--statements`
also loads pg_stat_statements (a diagnostic, off by default: the cluster otherwise keeps its
defaults) and prints the statements that took PostgreSQL's time in each phase.

Standard library only; every process it starts is stopped by its PID; the cluster's data is
deleted at the end (results.json and the logs stay).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pgcluster import Cluster, free_port, pgbench

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".data" / "bench-events"
GOAL_P99_MS = 100.0
GOAL_RATE = 500            # the goal is stated at 500 events/s
EVENTS_PER_TRANSACTION = 5
PLAN_ID = "0b9f6a64-7d5e-4c1a-9a51-000000000001"
ENDPOINT_SECRET = "whsec_movix_bench_events_secret"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str):
    print(f"[bench-events {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# The receiver: `bench_events.py receive --port P`, a process of its own so that its CPU time is
# its own in /proc and its GIL is not the driver's.

class _ReceiverState:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.records: list[tuple] = []   # (arrival, id, subscription_id, sequence, occurred_at, client port)
        self.ids: set[str] = set()
        self.first_arrival: float | None = None
        self.last_new_arrival: float | None = None
        self.bad = 0
        self.connections: set[int] = set()


class _ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: the worker's AsyncHTTPClient reuses connections
    state: _ReceiverState            # set on the class by receiver_main

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass

    def _reply(self, status: int, body: bytes = b"", content_type: str | None = None):
        self.send_response_only(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        arrived = time.time()
        state = self.state
        if self.path == "/control/reset":
            with state.lock:
                state.reset()
            self._reply(200)
            return
        port = self.client_address[1]
        try:
            envelope = json.loads(body)
            record = (arrived, envelope["id"], envelope.get("subscription_id"), envelope.get("sequence"),
                      envelope.get("occurred_at"), port)
        except (ValueError, KeyError, TypeError):
            record = None
        with state.lock:
            if record is None:
                state.bad += 1
            else:
                state.records.append(record)
                if record[1] not in state.ids:
                    state.ids.add(record[1])
                    state.last_new_arrival = arrived
                if state.first_arrival is None:
                    state.first_arrival = arrived
                state.connections.add(port)
        self._reply(200)

    def do_GET(self):
        state = self.state
        with state.lock:
            if self.path == "/control/stats":
                body = {"requests": len(state.records), "unique": len(state.ids), "bad": state.bad,
                        "first_arrival": state.first_arrival, "last_new_arrival": state.last_new_arrival,
                        "connections": len(state.connections)}
            elif self.path == "/control/records":
                body = {"records": state.records}
            else:
                body = None
        if body is None:
            self._reply(404)
        else:
            self._reply(200, json.dumps(body).encode(), "application/json")


def receiver_main(port: int):
    _ReceiverHandler.state = _ReceiverState()
    ThreadingHTTPServer.request_queue_size = 256   # a worker opens its connections all at once
    server = ThreadingHTTPServer(("127.0.0.1", port), _ReceiverHandler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.5)
    server.server_close()


class Receiver:
    """The receiver process, seen from the driver."""

    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/movix"

    def start(self):
        self.err = open(DATA / "receiver.log", "w")
        self.proc = subprocess.Popen([sys.executable, __file__, "receive", "--port", str(self.port)],
                                     stdout=self.err, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.stats()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the webhook receiver did not start; see .data/bench-events/receiver.log")
                time.sleep(0.05)

    def _call(self, method: str, path: str):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=b"" if method == "POST" else None)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"receiver {path}: HTTP {response.status}")
            return json.loads(data) if data else None
        finally:
            conn.close()

    def stats(self) -> dict:
        return self._call("GET", "/control/stats")

    def records(self) -> list[list]:
        return self._call("GET", "/control/records")["records"]

    def reset(self):
        self._call("POST", "/control/reset")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.err.close()


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc.

def proc_cpu(pid: int | None, children: bool = False) -> float:
    """CPU seconds (user + system) of a live process, all its threads; with `children`, also of
    its children it has waited for (a PostgreSQL backend that exited counts in the postmaster's)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])          # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])     # cutime, cstime
    return ticks / CLK_TCK


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(entry))
    return found


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine: everyone's work, the lead's included."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


class CPU:
    """CPU seconds of the benchmark's processes at one moment."""

    def __init__(self, cluster: Cluster, receiver: Receiver, workers: list[subprocess.Popen], generator: subprocess.Popen | None = None):
        self.at = time.monotonic()
        postmaster = cluster.postmaster_pid()
        self.postgres = proc_cpu(postmaster, children=True) + sum(proc_cpu(c) for c in children_of(postmaster)) if postmaster else 0.0
        self.receiver = proc_cpu(receiver.proc.pid if receiver.proc else None)
        self.workers = [proc_cpu(w.pid) for w in workers]
        self.generator = proc_cpu(generator.pid) if generator else 0.0
        self.machine = machine_cpu()

    @staticmethod
    def share(before: "CPU", after: "CPU", workers_before: list[float] | None = None) -> dict:
        """CPU used between two moments, in cores (seconds of CPU per second of wall time)."""
        wall = max(after.at - before.at, 1e-9)
        wb = workers_before if workers_before is not None else before.workers
        worker_seconds = [a - b for a, b in zip(after.workers, wb + [0.0] * (len(after.workers) - len(wb)))]
        busy = after.machine[0] - before.machine[0]
        total = max(after.machine[1] - before.machine[1], 1)
        cores = os.cpu_count() or 1
        return {
            "wall_seconds": round(wall, 2),
            "cpu_seconds": {"workers": [round(s, 2) for s in worker_seconds], "postgres": round(after.postgres - before.postgres, 2),
                            "receiver": round(after.receiver - before.receiver, 2), "generator_psql": round(after.generator - before.generator, 2)},
            "cores": {"workers": round(sum(worker_seconds) / wall, 2), "postgres": round((after.postgres - before.postgres) / wall, 2),
                      "receiver": round((after.receiver - before.receiver) / wall, 2),
                      "generator_psql": round((after.generator - before.generator) / wall, 2)},
            "machine_busy": round(busy / total, 3),
            "machine_cores": cores,
        }


class BackendSampler:
    """What the workers' PostgreSQL connections are doing, sampled every `interval` from
    pg_stat_activity (a psql a sample, a few ms of CPU each): mostly idle means the connections
    wait for the worker (its own loop, the receiver), active on WAL means waiting for the disk
    (commits), active without a wait means PostgreSQL's CPU. The LISTEN connection is left out."""

    QUERY = """SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'active (CPU)') ELSE state END, count(*)
               FROM pg_stat_activity
               WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                 AND query NOT ILIKE 'LISTEN%' AND application_name <> 'psql'
               GROUP BY 1"""

    def __init__(self, cluster: Cluster, database: str, interval: float = 0.25):
        self.cluster, self.database, self.interval = cluster, database, interval
        self.counts: dict[str, int] = {}
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopping.wait(self.interval):
            try:
                out = self.cluster.psql(self.database, self.QUERY)
            except subprocess.CalledProcessError:
                continue
            self.samples += 1
            for line in out.splitlines():
                state, count = line.rsplit("|", 1)
                self.counts[state] = self.counts.get(state, 0) + int(count)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join()

    def summary(self) -> dict:
        """Mean number of the workers' connections in each state."""
        n = max(self.samples, 1)
        return {"samples": self.samples,
                "mean_connections": {k: round(v / n, 2) for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])}}


def describe_backends(summary: dict) -> str:
    parts = [f"{state} {mean:g}" for state, mean in summary["mean_connections"].items()]
    return f"workers' connections (mean of {summary['samples']} samples): " + (", ".join(parts) or "none seen")


STATEMENTS = """SELECT calls, rows, round(mean_exec_time::numeric, 2), round(mean_plan_time::numeric, 2),
                      round(total_exec_time::numeric), left(regexp_replace(query, '\\s+', ' ', 'g'), 60)
               FROM pg_stat_statements
               WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat%'
               ORDER BY total_exec_time DESC LIMIT 6"""


def statements(cluster: Cluster, database: str) -> list[dict]:
    """With --statements: the statements that took PostgreSQL the most time in this phase."""
    found = []
    for line in cluster.psql(database, STATEMENTS).splitlines():
        calls, rows, mean, plan, total, query = line.split("|", 5)
        found.append({"calls": int(calls), "rows": int(rows), "mean_exec_ms": float(mean), "mean_plan_ms": float(plan),
                      "total_exec_ms": int(total), "query": query})
    return found


def describe_statements(found: list[dict]) -> str:
    return "\n".join(f"    {s['calls']:>7} calls {s['rows'] / max(s['calls'], 1):>7.2f} rows/call {s['mean_exec_ms']:>7.2f} ms "
                     f"(+{s['mean_plan_ms']:.2f} plan) {s['total_exec_ms'] / 1000:>6.1f} s  {s['query']}" for s in found)


def describe_cpu(cpu: dict) -> str:
    c = cpu["cores"]
    return (f"CPU in cores: workers {c['workers']:.2f}, postgres {c['postgres']:.2f}, receiver {c['receiver']:.2f}"
            + (f", generator psql {c['generator_psql']:.2f}" if c["generator_psql"] else "")
            + f"; machine {cpu['machine_busy'] * 100:.0f}% busy of {cpu['machine_cores']} cores (everyone's work)")


# ---------------------------------------------------------------------------------------------
# The database: fresh per phase, one endpoint, events.

def subscription_ids(count: int) -> list[str]:
    """The same uuids PostgreSQL's md5('bench-subscription-' || g)::uuid gives."""
    return [str(uuid.UUID(hashlib.md5(f"bench-subscription-{g}".encode()).hexdigest())) for g in range(1, count + 1)]


def snapshot_sql(subscription: str) -> str:
    """A subscription snapshot (docs/events.md) as the payload of `subscription.renewed`."""
    return jsonb_text({"subscription": {
        "id": subscription, "user_id": subscription, "plan_id": PLAN_ID, "status": "active",
        "current_period": {"start": "2026-12-02T16:20:31.000Z", "end": "2027-01-02T16:20:31.000Z"},
        "auto_renew": True, "cancel_at_period_end": False, "grace_until": None, "access_end": "2027-01-02T16:20:31.000Z",
    }})


def jsonb_text(value) -> str:
    return "'" + json.dumps(value, separators=(",", ":")).replace("'", "''") + "'::jsonb"


PRELOAD = """
INSERT INTO outbox_events (id, type, aggregate_id, subscription_id, user_id, occurred_at, schema_version, payload)
SELECT (r - 1) * {s} + g, 'subscription.renewed', sub, sub, sub, now() - ({rounds} - r + 1) * interval '1 second', 1,
       jsonb_build_object('subscription', jsonb_build_object(
           'id', sub, 'user_id', sub, 'plan_id', '{plan}', 'status', 'active',
           'current_period', jsonb_build_object('start', '2026-12-02T16:20:31.000Z', 'end', '2027-01-02T16:20:31.000Z'),
           'auto_renew', true, 'cancel_at_period_end', false, 'grace_until', null, 'access_end', '2027-01-02T16:20:31.000Z'))
FROM generate_series(1, {rounds}) r
CROSS JOIN LATERAL (SELECT g, md5('bench-subscription-' || g)::uuid AS sub FROM generate_series(1, {s}) g) s
WHERE (r - 1) * {s} + g <= {n}
ORDER BY r, g;
SELECT setval(pg_get_serial_sequence('outbox_events', 'id'), {n});
"""


def fresh_database(cluster: Cluster, name: str, binary: Path, receiver: Receiver, statements: bool = False):
    cluster.psql("postgres", f"DROP DATABASE IF EXISTS {name}")
    cluster.psql("postgres", f"CREATE DATABASE {name}")
    subprocess.run([str(binary), "migrate"], check=True, capture_output=True, env=worker_env(cluster.url(name), None))
    if statements:
        cluster.psql(name, "CREATE EXTENSION pg_stat_statements")
    # The endpoint, as POST /internal/v1/webhook-endpoints would record it.
    cluster.psql(name, f"""INSERT INTO webhook_endpoints (id, url, event_types, secret, description, created_at)
                          VALUES (gen_random_uuid(), '{receiver.url}', '{{*}}', '{ENDPOINT_SECRET}', 'bench-events receiver', now())""")


def worker_env(database_url: str, args) -> dict:
    # Nothing from the caller's MOVIX_* environment (an SMTP server, a poll interval) changes the figures.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIX_") and k != "DATABASE_URL"}
    env.update({
        "DATABASE_URL": database_url,
        "MOVIX_LOG_LEVEL": "warning",
        # The worker needs a terminal to start; reconciliation finds nothing to ask it about, and
        # were it to ask, it asks a closed local port, never the real acquirer.
        "MOVIX_CLOUDPAYMENTS_PUBLIC_ID": "pk_bench_events",
        "MOVIX_CLOUDPAYMENTS_API_SECRET": "bench-events-secret",
        "MOVIX_CLOUDPAYMENTS_API_URL": "http://127.0.0.1:9/",
    })
    if args is not None:
        env["MOVIX_WEBHOOK_CONCURRENCY"] = str(args.concurrency)
        if args.pool:
            env["MOVIX_DATABASE_POOL_SIZE"] = str(args.pool)
    return env


def start_workers(cluster: Cluster, database: str, count: int, label: str, args) -> list[subprocess.Popen]:
    procs = []
    for index in range(count):
        out = open(DATA / f"worker-{label}-{index}.log", "w")
        procs.append(subprocess.Popen([str(args.binary), "worker"], stdout=out, stderr=subprocess.STDOUT,
                                      env=worker_env(cluster.url(database), args)))
        out.close()
    return procs


def stop_workers(procs: list[subprocess.Popen], problems: list[str], label: str):
    """SIGTERM by PID: a worker finishes the deliveries it holds and exits."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for index, proc in enumerate(procs):
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            problems.append(f"{label}: worker {index} did not stop within 30 s of SIGTERM (killed)")
            continue
        if code != 0:
            problems.append(f"{label}: worker {index} exited {code}; see .data/bench-events/worker-{label}-{index}.log")


def database_events(cluster: Cluster, database: str, after_id: int = 0) -> dict[str, tuple[int, str, float]]:
    """event_id -> (sequence, subscription_id, occurred_at as Unix seconds, microseconds)."""
    out = cluster.psql(database, f"""SELECT event_id, coalesce(sequence, -1), subscription_id, extract(epoch FROM occurred_at)
                                     FROM outbox_events WHERE id > {after_id}""")
    events = {}
    for line in out.splitlines():
        event_id, sequence, subscription, occurred = line.split("|")
        events[event_id] = (int(sequence), subscription, float(occurred))
    return events


def verify(cluster: Cluster, database: str, records: list[list], expected: dict, label: str, problems: list[str],
           after_id: int = 0) -> dict:
    """Every expected event received, each subscription's in sequence order, envelopes true to the
    database, every webhook message delivered at the first attempt."""
    received = {}
    duplicates = 0
    for arrival, event_id, subscription, sequence, occurred_at, _port in records:
        if event_id in received:
            duplicates += 1
        else:
            received[event_id] = (arrival, subscription, sequence, occurred_at)
    missing = [e for e in expected if e not in received]
    unexpected = [e for e in received if e not in expected]
    mismatched = 0
    mismatch_example = None
    for event_id, (_arrival, subscription, sequence, occurred_at) in received.items():
        want = expected.get(event_id)
        if want is None:
            continue
        envelope_time = datetime.fromisoformat(occurred_at.replace("Z", "+00:00")).timestamp() if occurred_at else None
        if sequence != want[0] or subscription != want[1] or envelope_time is None or abs(envelope_time - want[2]) > 0.0015:
            mismatched += 1
            mismatch_example = mismatch_example or {"id": event_id, "received": [subscription, sequence, occurred_at],
                                                    "database": [want[1], want[0], want[2]]}
    # Order: in arrival order, each subscription's sequence never goes back (a repeat of the
    # latest, a redelivery, is allowed: delivery is at least once).
    latest: dict[str, int] = {}
    out_of_order = 0
    for _arrival, _event_id, subscription, sequence, _occurred, _port in records:
        if sequence is None:
            continue
        if sequence < latest.get(subscription, -1):
            out_of_order += 1
        latest[subscription] = max(sequence, latest.get(subscription, -1))
    db = cluster.psql(database, f"""SELECT
        (SELECT count(*) FROM outbox_events WHERE id > {after_id} AND dispatched_at IS NULL),
        (SELECT count(*) FROM webhook_messages m WHERE m.event_id > {after_id}),
        (SELECT count(*) FROM webhook_messages m WHERE m.event_id > {after_id} AND m.delivered_at IS NULL),
        (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id > {after_id}),
        (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id > {after_id} AND (d.status_code IS NULL OR d.status_code NOT BETWEEN 200 AND 299))""").split("|")
    unpublished, messages, undelivered, attempts, failed_attempts = (int(v) for v in db)
    checks = {"events": len(expected), "received_unique": len(received), "missing": len(missing), "unexpected": len(unexpected),
              "duplicate_requests": duplicates, "out_of_order": out_of_order, "envelope_mismatches": mismatched,
              "unpublished": unpublished, "webhook_messages": messages, "undelivered_messages": undelivered,
              "delivery_attempts": attempts, "failed_attempts": failed_attempts}
    for name, want in {"missing": 0, "unexpected": 0, "out_of_order": 0, "envelope_mismatches": 0, "unpublished": 0,
                       "webhook_messages": len(expected), "undelivered_messages": 0}.items():
        if checks[name] != want:
            problems.append(f"{label}: {name} = {checks[name]}, expected {want}"
                            + (f" (e.g. {missing[:3]})" if name == "missing" and missing else "")
                            + (f" (e.g. {mismatch_example})" if name == "envelope_mismatches" and mismatch_example else ""))
    if duplicates or failed_attempts or attempts != len(expected):
        log(f"{label}: note: {duplicates} duplicate request(s), {attempts} attempt(s) for {len(expected)} events, {failed_attempts} failed")
    return checks


def wait_for(receiver: Receiver, count: int, stall_seconds: float, interval: float = 0.1) -> dict:
    """Polls the receiver until it has `count` unique events, or nothing new came for `stall_seconds`."""
    last_unique, last_progress = -1, time.monotonic()
    while True:
        stats = receiver.stats()
        if stats["unique"] >= count:
            return stats
        if stats["unique"] != last_unique:
            last_unique, last_progress = stats["unique"], time.monotonic()
        elif time.monotonic() - last_progress > stall_seconds:
            return stats
        time.sleep(interval)


def receiver_note(cpu: dict) -> str:
    share = cpu["cores"]["receiver"]
    if share >= 0.85:
        return f"the receiver was busy {share * 100:.0f}% of one core: IT IS THE BOTTLENECK, not the service"
    return f"receiver {share * 100:.0f}% of one core (a Python process is capped near 100%): not the bottleneck"


# ---------------------------------------------------------------------------------------------
# Phases.

def throughput(cluster: Cluster, receiver: Receiver, workers: int, args, problems: list[str]) -> dict:
    label = f"throughput-{workers}"
    database = f"movix_bench_events_tp_{workers}"
    fresh_database(cluster, database, args.binary, receiver, args.statements)
    seeded = time.monotonic()
    rounds = math.ceil(args.events / args.subscriptions)
    cluster.psql(database, PRELOAD.format(n=args.events, s=args.subscriptions, rounds=rounds, plan=PLAN_ID))
    # webhook_messages is still empty here (the workers' publisher fills it): its statistics are
    # those of a quiet system that a burst of events lands on.
    cluster.psql(database, "VACUUM ANALYZE")
    if args.statements:
        cluster.psql(database, "SELECT pg_stat_statements_reset()")
    log(f"{workers} worker(s): preloaded {args.events:,} events over {args.subscriptions:,} subscriptions "
        f"in {time.monotonic() - seeded:.1f} s")
    receiver.reset()
    before = CPU(cluster, receiver, [])
    started = time.time()
    procs = start_workers(cluster, database, workers, label, args)
    try:
        with BackendSampler(cluster, database) as sampler:
            stats = wait_for(receiver, args.events, args.stall_seconds)
        after = CPU(cluster, receiver, procs)
    finally:
        stop_workers(procs, problems, label)
    cpu = CPU.share(before, after, workers_before=[0.0] * workers)
    if stats["unique"] < args.events:
        problems.append(f"{label}: the receiver had {stats['unique']:,} of {args.events:,} events when delivery stalled "
                        f"({args.stall_seconds:.0f} s without a new one)")
    finished = stats["last_new_arrival"] or time.time()
    first = stats["first_arrival"] or finished
    seconds = finished - started
    records = receiver.records()
    expected = database_events(cluster, database)   # with the sequence the publisher gave
    checks = verify(cluster, database, records, expected, label, problems)
    result = {
        "workers": workers, "events": args.events, "subscriptions": args.subscriptions, "concurrency": args.concurrency,
        "seconds": round(seconds, 2), "events_per_second": round(stats["unique"] / seconds, 1) if seconds > 0 else 0,
        "first_arrival_after_start_seconds": round(first - started, 2),
        "events_per_second_first_to_last": round((stats["unique"] - 1) / (finished - first), 1) if finished > first else None,
        "receiver_connections": stats["connections"], "cpu": cpu, "database_connections": sampler.summary(), "checks": checks,
    }
    log(f"{workers} worker(s): {stats['unique']:,} events in {seconds:.2f} s = {result['events_per_second']:,.0f}/s "
        f"(first arrival {result['first_arrival_after_start_seconds']} s after start; "
        f"{stats['connections']} receiver connection(s))")
    log(f"{workers} worker(s): {describe_cpu(cpu)}; {receiver_note(cpu)}")
    log(f"{workers} worker(s): {describe_backends(result['database_connections'])}")
    if args.statements:
        result["statements"] = statements(cluster, database)
        log(f"{workers} worker(s): statements by PostgreSQL time:\n{describe_statements(result['statements'])}")
    cluster.psql("postgres", f"DROP DATABASE {database}")
    return result


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def generator_sql(subscriptions: list[str], payloads: dict[str, str], first: int, count: int) -> str:
    rows = []
    for k in range(first, first + count):
        sub = subscriptions[k % len(subscriptions)]
        rows.append(f"('subscription.renewed', '{sub}', '{sub}', '{sub}', clock_timestamp(), 1, {payloads[sub]})")
    return ("BEGIN;\nINSERT INTO outbox_events (type, aggregate_id, subscription_id, user_id, occurred_at, schema_version, payload) VALUES\n"
            + ",\n".join(rows) + ";\nSELECT pg_notify('movix_events', '');\nCOMMIT;\n")


def latency(cluster: Cluster, receiver: Receiver, workers: int, args, problems: list[str]) -> dict:
    label = f"latency-{workers}"
    database = f"movix_bench_events_lat_{workers}"
    fresh_database(cluster, database, args.binary, receiver, args.statements)
    subscriptions = subscription_ids(args.subscriptions)
    payloads = {s: snapshot_sql(s) for s in subscriptions}
    receiver.reset()
    procs = start_workers(cluster, database, workers, label, args)
    generator = None
    try:
        # Warm-up: the workers are up, listening, and have their connections to the receiver.
        warmup = 4 * EVENTS_PER_TRANSACTION
        for t in range(4):
            cluster.psql(database, generator_sql(subscriptions, payloads, t * EVENTS_PER_TRANSACTION, EVENTS_PER_TRANSACTION))
        stats = wait_for(receiver, warmup, 30)
        if stats["unique"] < warmup:
            raise RuntimeError(f"{label}: the warm-up events did not arrive ({stats['unique']} of {warmup}); "
                               f"see .data/bench-events/worker-{label}-*.log")
        time.sleep(1)
        warm_max = int(cluster.psql(database, "SELECT max(id) FROM outbox_events"))
        receiver.reset()
        if args.statements:
            cluster.psql(database, "SELECT pg_stat_statements_reset()")

        transactions = max(1, round(args.rate * args.seconds / EVENTS_PER_TRANSACTION))
        interval = EVENTS_PER_TRANSACTION / args.rate
        gen_log = open(DATA / f"generator-{label}.log", "w")
        generator = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", cluster.url(database)],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=gen_log, text=True)
        gen_log.close()
        before = CPU(cluster, receiver, procs, generator)
        log(f"{workers} worker(s): committing {args.rate:g} events/s for {args.seconds} s "
            f"({transactions:,} transactions of {EVENTS_PER_TRANSACTION} at {1 / interval:.0f}/s, NOTIFY in each)")
        sampler = BackendSampler(cluster, database).__enter__()
        start = time.monotonic()
        behind = 0.0
        for i in range(transactions):
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                behind = max(behind, -delay)
            generator.stdin.write(generator_sql(subscriptions, payloads, warmup + i * EVENTS_PER_TRANSACTION, EVENTS_PER_TRANSACTION))
            generator.stdin.flush()
        generator.stdin.close()
        # Reaped here, for its CPU time (it has gone from /proc once it exits).
        _, status, usage = os.wait4(generator.pid, 0)
        generator.returncode = os.waitstatus_to_exitcode(status)
        if generator.returncode != 0:
            raise RuntimeError(f"{label}: the generator's psql exited {generator.returncode}; see .data/bench-events/generator-{label}.log")
        generated = transactions * EVENTS_PER_TRANSACTION
        stats = wait_for(receiver, generated, args.stall_seconds)
        sampler.__exit__()
        after = CPU(cluster, receiver, procs)
        after.generator = usage.ru_utime + usage.ru_stime
    finally:
        stop_workers(procs, problems, label)
        if generator is not None and generator.poll() is None:
            generator.kill()
            generator.wait()
    cpu = CPU.share(before, after)
    expected = database_events(cluster, database, after_id=warm_max)
    if stats["unique"] < len(expected):
        problems.append(f"{label}: the receiver had {stats['unique']:,} of {len(expected):,} events when delivery stalled")
    records = receiver.records()
    checks = verify(cluster, database, records, expected, label, problems, after_id=warm_max)

    first_arrival = {}
    for arrival, event_id, *_ in records:
        first_arrival.setdefault(event_id, arrival)
    latencies = sorted((first_arrival[e] - occurred) * 1000 for e, (_s, _sub, occurred) in expected.items() if e in first_arrival)
    occurred_times = sorted(v[2] for v in expected.values())
    span = occurred_times[-1] - occurred_times[0] if len(occurred_times) > 1 else 0
    achieved = (len(occurred_times) - 1) / span if span > 0 else 0
    arrivals = sorted(first_arrival[e] for e in expected if e in first_arrival)
    delivered_rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 and arrivals[-1] > arrivals[0] else 0
    # Where the time goes: committed -> published (the publisher's dispatched_at), published -> arrived.
    published = cluster.psql(database, f"""SELECT percentile_disc(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - occurred_at) * 1000)
                                           FROM outbox_events WHERE id > {warm_max}""").strip("{}").split(",")
    result = {
        "workers": workers, "rate": args.rate, "seconds": args.seconds, "concurrency": args.concurrency,
        "events": len(expected), "achieved_rate": round(achieved, 1), "delivered_rate": round(delivered_rate, 1),
        "generator_max_behind_ms": round(behind * 1000, 1),
        "latency_ms": {"p50": round(percentile(latencies, 50), 1), "p90": round(percentile(latencies, 90), 1),
                       "p99": round(percentile(latencies, 99), 1), "max": round(latencies[-1], 1) if latencies else None,
                       "mean": round(sum(latencies) / len(latencies), 1) if latencies else None},
        "occurred_to_published_ms": {"p50": round(float(published[0]), 1), "p99": round(float(published[1]), 1)} if published[0] else None,
        "receiver_connections": stats["connections"], "cpu": cpu, "database_connections": sampler.summary(), "checks": checks,
    }
    rate_ok = achieved >= 0.95 * args.rate
    result["goal"] = "PASS" if latencies and result["latency_ms"]["p99"] < GOAL_P99_MS and rate_ok and not checks["missing"] else "MISS"
    lat = result["latency_ms"]
    log(f"{workers} worker(s): {len(latencies):,} events at {achieved:.0f}/s: latency p50 {lat['p50']} ms, p90 {lat['p90']} ms, "
        f"p99 {lat['p99']} ms, max {lat['max']} ms (occurred -> published p50 {result['occurred_to_published_ms']['p50']} ms, "
        f"p99 {result['occurred_to_published_ms']['p99']} ms)")
    log(f"{workers} worker(s): {describe_cpu(cpu)}; {receiver_note(cpu)}")
    log(f"{workers} worker(s): {describe_backends(result['database_connections'])}")
    if args.statements:
        result["statements"] = statements(cluster, database)
        log(f"{workers} worker(s): statements by PostgreSQL time:\n{describe_statements(result['statements'])}")
    if delivered_rate < 0.95 * achieved:
        result["backlog"] = (f"{label}: delivered {delivered_rate:.0f} events/s while {achieved:.0f}/s were committed: "
                             "the workers fell behind and the backlog grew for the whole run (the latency is queueing)")
        log(result["backlog"])
    if not rate_ok:
        problems_note = f"{label}: the generator reached {achieved:.0f} events/s of {args.rate} (the latency is not at the rate asked)"
        log(problems_note)
        result["note"] = problems_note
    cluster.psql("postgres", f"DROP DATABASE {database}")
    return result


# ---------------------------------------------------------------------------------------------

def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "receive":
        rp = argparse.ArgumentParser(prog="bench_events.py receive")
        rp.add_argument("receive")
        rp.add_argument("--port", type=int, required=True)
        receiver_main(rp.parse_args().port)
        return 0

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "20000")), help="events preloaded for throughput (20000)")
    ap.add_argument("--subscriptions", type=int, default=1000, help="subscriptions the events belong to (1000)")
    ap.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated (1,2)")
    ap.add_argument("--rate", type=float, default=500, help="events/s committed in the latency phase (500)")
    ap.add_argument("--seconds", type=int, default=30, help="length of the latency phase (30)")
    ap.add_argument("--concurrency", type=int, default=32, help="MOVIX_WEBHOOK_CONCURRENCY per worker (32)")
    ap.add_argument("--pool", type=int, default=0, help="MOVIX_DATABASE_POOL_SIZE per worker (default: the service's, 8)")
    ap.add_argument("--binary", type=Path, default=ROOT / ".build" / "release" / "movix-billing",
                    help="the movix-billing to run (default .build/release/movix-billing; relative to the repository)")
    ap.add_argument("--pgbench-seconds", type=int, default=15, help="length of the pgbench -N reference (15)")
    ap.add_argument("--stall-seconds", type=float, default=60, help="give up when nothing new arrives for this long (60)")
    ap.add_argument("--statements", action="store_true",
                    help="diagnostic: load pg_stat_statements in the cluster and print the workers' statements per phase")
    ap.add_argument("--skip-latency", action="store_true", help="only the throughput phase")
    ap.add_argument("--skip-throughput", action="store_true", help="only the latency phase")
    args = ap.parse_args()
    args.binary = args.binary if args.binary.is_absolute() else (Path.cwd() / args.binary)
    if not args.binary.exists():
        print(f"no binary at {args.binary}: build it (swift build -c release --product movix-billing) or pass --binary", file=sys.stderr)
        return 1
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]

    DATA.mkdir(parents=True, exist_ok=True)
    for old in DATA.glob("*.log"):
        old.unlink()
    cluster = Cluster(DATA, log, ("shared_preload_libraries=pg_stat_statements",) if args.statements else ())
    receiver = Receiver()
    runs, lat_runs, problems = [], [], []
    tps = None
    failed = None
    try:
        cluster.start()
        receiver.start()
        log(f"receiver on {receiver.url} (ThreadingHTTPServer, HTTP/1.1 keep-alive, PID {receiver.proc.pid})")
        if not args.skip_throughput:
            for workers in worker_counts:
                runs.append(throughput(cluster, receiver, workers, args, problems))
        if not args.skip_latency:
            for workers in worker_counts:
                lat_runs.append(latency(cluster, receiver, workers, args, problems))
        log(f"pgbench -N -c 8 -j 2 -T {args.pgbench_seconds}")
        tps = pgbench(cluster, args.pgbench_seconds)
    except Exception as error:  # noqa: BLE001 - reported, with what was measured so far
        failed = f"{type(error).__name__}: {error}"
        problems.append(failed)
    finally:
        receiver.stop()
        cluster.stop()

    print(f"\nEvent delivery benchmark: {args.events:,} events over {args.subscriptions:,} subscriptions, "
          f"MOVIX_WEBHOOK_CONCURRENCY {args.concurrency}, PostgreSQL defaults (fsync on), {os.cpu_count()} cores")
    print(f"  {'workers':>7}  {'events/s':>9}  {'p50 ms':>7}  {'p99 ms':>7}  {'at':>9}  {'receiver':>8}  goal p99 < {GOAL_P99_MS:.0f} ms")
    for workers in worker_counts:
        t = next((r for r in runs if r["workers"] == workers), None)
        lr = next((r for r in lat_runs if r["workers"] == workers), None)
        eps = f"{t['events_per_second']:,.0f}" if t else "-"
        p50 = f"{lr['latency_ms']['p50']:.1f}" if lr else "-"
        p99 = f"{lr['latency_ms']['p99']:.1f}" if lr else "-"
        at = f"{lr['achieved_rate']:.0f}/s" if lr else "-"
        share = t["cpu"]["cores"]["receiver"] if t else (lr["cpu"]["cores"]["receiver"] if lr else 0)
        print(f"  {workers:>7}  {eps:>9}  {p50:>7}  {p99:>7}  {at:>9}  {share * 100:>7.0f}%  {lr['goal'] if lr else '-'}")
    print(f"  pgbench -N: {f'{tps:,.0f} TPS' if tps else '-'} (-c 8 -j 2, {args.pgbench_seconds} s, same cluster, fsync on)")
    print("  receiver = its CPU as a share of one core during the throughput run (Python: ~100% would make it the limit)")
    for r in runs:
        print(f"  throughput, {r['workers']} worker(s): {describe_cpu(r['cpu'])}; {receiver_note(r['cpu'])}")
    for r in lat_runs:
        print(f"  latency, {r['workers']} worker(s): delivered {r['delivered_rate']:,.0f}/s of {r['achieved_rate']:,.0f}/s committed; "
              f"{describe_cpu(r['cpu'])}")
    goal_met = bool(lat_runs) and all(r["goal"] == "PASS" for r in lat_runs)
    if lat_runs:
        print(f"  goal: p99 < {GOAL_P99_MS:.0f} ms at {args.rate:g} events/s: {'PASS' if goal_met else 'MISS'}"
              + ("" if args.rate >= GOAL_RATE else f" (note: the goal is stated at {GOAL_RATE}/s)"))
    (DATA / "results.json").write_text(json.dumps({
        "settings": {"events": args.events, "subscriptions": args.subscriptions, "workers": worker_counts, "rate": args.rate,
                     "seconds": args.seconds, "concurrency": args.concurrency, "pool": args.pool or None,
                     "binary": str(args.binary), "cores": os.cpu_count()},
        "throughput": runs, "latency": lat_runs, "pgbench_tps": tps, "goal_met": goal_met, "problems": problems,
    }, indent=2))
    print(f"  results: {DATA / 'results.json'}")
    if problems:
        print("VERIFICATION FAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0 if goal_met or not lat_runs else 3


if __name__ == "__main__":
    sys.exit(main())
