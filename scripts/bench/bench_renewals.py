"""Renewal throughput benchmark (issue 8), driven by scripts/bench-renewals.

1. starts a PostgreSQL cluster of its own under .data/bench-renewals with the server's default
   settings (fsync on, as in production), as the `postgres` user, on a free port;
2. for each worker count (1, then 2): a fresh database, `movix-billing migrate`, N active
   subscriptions with a saved card whose periods end within the next day (renewal jobs all due:
   the renewal lead is 24 h), then K `RenewalBench` processes (JobRunner with an in-process
   acquirer that approves every token charge: billing's cost without the acquirer's network)
   until no job is due; the wall time from start to the last job;
3. verifies every subscription was renewed exactly once (one paid renewal invoice each, its
   period from the old end, one attempt each, every renewal job done);
4. runs pgbench -N on the same cluster as the reference.

Standard library only; every process it starts is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pgcluster import Cluster, pgbench

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".data" / "bench-renewals"
RELEASE = ROOT / ".build" / "release"
GOAL_SECONDS = 600  # 1,000,000 renewals in under 10 minutes


def log(msg: str):
    print(f"[bench-renewals {time.strftime('%H:%M:%S')}] {msg}", flush=True)


SEED = """
INSERT INTO customers (user_id)
SELECT md5('user' || g)::uuid FROM generate_series(1, {n}) g;
INSERT INTO payment_methods (id, user_id, acquirer, token, card_first_six, card_last_four, card_brand, exp_month, exp_year)
SELECT md5('card' || g)::uuid, md5('user' || g)::uuid, 'cloudpayments', 'bench_tok_' || g, '400000', '3055', 'Visa', 12, 2030
FROM generate_series(1, {n}) g;
UPDATE customers c SET default_payment_method_id = m.id FROM payment_methods m WHERE m.user_id = c.user_id;
-- Periods that end within the next day, spread over it; started a month before.
INSERT INTO subscriptions (id, user_id, plan_id, status, current_period_start, current_period_end, auto_renew, billing_anchor)
SELECT md5('subscription' || g)::uuid, md5('user' || g)::uuid, '0b9f6a64-7d5e-4c1a-9a51-000000000001', 'active',
       e - interval '1 month', e, true, e - interval '1 month'
FROM (SELECT g, date_trunc('second', now()) + interval '1 minute' + (g % 86000) * interval '1 second' AS e
      FROM generate_series(1, {n}) g) s;
-- Their renewal jobs, as a payment schedules them: the renewal lead (24 h) before the end.
INSERT INTO jobs (kind, key, run_at)
SELECT 'renewal', id::text || '/' || round(extract(epoch FROM current_period_end) * 1000000)::bigint, current_period_end - interval '24 hours'
FROM subscriptions;
"""

VERIFY = {
    "renewal invoices": "SELECT count(*) FROM invoices WHERE kind = 'renewal'",
    "paid renewal invoices": "SELECT count(*) FROM invoices WHERE kind = 'renewal' AND status = 'paid'",
    "subscriptions renewed": """SELECT count(*) FROM subscriptions s JOIN invoices i ON i.subscription_id = s.id AND i.kind = 'renewal'
                                WHERE i.status = 'paid' AND s.current_period_end = i.period_end AND i.period_start < i.period_end
                                  AND s.status = 'active' AND s.grace_until IS NULL""",
    "subscriptions with two renewals": """SELECT count(*) FROM (SELECT subscription_id FROM invoices WHERE kind = 'renewal'
                                          GROUP BY subscription_id HAVING count(*) > 1) t""",
    "attempts": "SELECT count(*) FROM payment_attempts",
    "renewal jobs done": "SELECT count(*) FROM jobs WHERE kind = 'renewal' AND done_at IS NOT NULL",
    "renewal jobs failed once or more": "SELECT count(*) FROM jobs WHERE kind = 'renewal' AND last_error IS NOT NULL",
}


def run_workers(cluster: Cluster, database: str, workers: int, args) -> dict:
    bench = RELEASE / "RenewalBench"
    procs = []
    started = time.monotonic()
    try:
        for index in range(workers):
            out = open(DATA / f"worker-{workers}-{index}.log", "w")
            procs.append((subprocess.Popen([str(bench), cluster.url(database), "--batch", str(args.batch), "--pool", str(args.pool)],
                                           stdout=subprocess.PIPE, stderr=out, text=True), out))
        results = []
        for proc, out in procs:
            stdout, _ = proc.communicate()
            out.close()
            if proc.returncode != 0:
                raise RuntimeError(f"RenewalBench exited {proc.returncode}; see {out.name}")
            results.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    wall = max(r["seconds"] for r in results)
    return {"workers": workers, "jobs": [r["jobs"] for r in results], "seconds": round(wall, 1),
            "elapsed_including_exit_wait": round(time.monotonic() - started, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscriptions", type=int, default=int(os.environ.get("BENCH_SUBSCRIPTIONS", "1000000")))
    ap.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated")
    ap.add_argument("--batch", type=int, default=64, help="jobs one claim takes (MOVIX_WORKER_BATCH_SIZE)")
    ap.add_argument("--pool", type=int, default=8, help="connections per worker")
    ap.add_argument("--pgbench-seconds", type=int, default=15)
    args = ap.parse_args()

    cluster = Cluster(DATA, log)
    runs = []
    problems = []
    try:
        cluster.start()
        for workers in [int(w) for w in args.workers.split(",")]:
            database = f"movix_bench_renewals_{workers}"
            cluster.psql("postgres", f"DROP DATABASE IF EXISTS {database}")
            cluster.psql("postgres", f"CREATE DATABASE {database}")
            subprocess.run([str(RELEASE / "movix-billing"), "migrate"], check=True, capture_output=True,
                           env={**os.environ, "DATABASE_URL": cluster.url(database)})
            seeded = time.monotonic()
            cluster.psql(database, SEED.format(n=args.subscriptions))
            cluster.psql(database, "VACUUM ANALYZE")
            log(f"{workers} worker(s): seeded {args.subscriptions:,} subscriptions due within a day in {time.monotonic() - seeded:.0f} s")
            result = run_workers(cluster, database, workers, args)
            counts = {name: int(cluster.psql(database, sql)) for name, sql in VERIFY.items()}
            n = args.subscriptions
            expected = {"renewal invoices": n, "paid renewal invoices": n, "subscriptions renewed": n,
                        "subscriptions with two renewals": 0, "attempts": n, "renewal jobs done": n}
            for name, want in expected.items():
                if counts[name] != want:
                    problems.append(f"{workers} worker(s): {name} = {counts[name]}, expected {want}")
            result["rate"] = round(n / result["seconds"], 1) if result["seconds"] else 0
            result["projected_1m_seconds"] = round(1_000_000 / result["rate"], 0) if result["rate"] else None
            result["checks"] = counts
            runs.append(result)
            log(f"{workers} worker(s): {n:,} renewals in {result['seconds']} s = {result['rate']}/s "
                f"(per worker {result['jobs']}); 1,000,000 would take {result['projected_1m_seconds']} s")
            cluster.psql("postgres", f"DROP DATABASE {database}")
        tps = pgbench(cluster, args.pgbench_seconds)
    finally:
        cluster.stop()

    print("\nRenewal benchmark (in-process acquirer: every token charge approved at once, no network)")
    print(f"  subscriptions     {args.subscriptions:,} due within one day, renewal jobs all due")
    for run in runs:
        print(f"  {run['workers']} worker(s)       {run['rate']:.0f} renewals/s, {run['seconds']} s in all; "
              f"1,000,000 at this rate: {run['projected_1m_seconds']:.0f} s")
    print(f"  pgbench -N        {tps:.0f} TPS (-c 8 -j 2, same cluster, fsync on)")
    best = max((r["rate"] for r in runs), default=0)
    goal_met = best > 0 and 1_000_000 / best < GOAL_SECONDS
    print(f"  goal: 1,000,000 in under {GOAL_SECONDS} s: {'PASS' if goal_met else 'MISS'}")
    (DATA / "results.json").write_text(json.dumps({"runs": runs, "pgbench_tps": tps, "problems": problems}, indent=2))
    if problems:
        print("VERIFICATION FAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0 if goal_met else 3


if __name__ == "__main__":
    sys.exit(main())
