"""Entry point of scripts/chaos and scripts/schemathesis (see docs/reliability.md).

    python3 e2e/chaos/run.py [--only kill9,postgres,faults,worker_kill9,events_kill9,schemathesis] [--skip-schemathesis]
                             [--strict-fail-fast] [--write-docs] [--keep] [--serve SECONDS]

Starts its own PostgreSQL, `movix-billing sandbox` and `movix-billing serve` (a private copy of
the debug binary; worker_kill9 adds `movix-billing worker`s) on free loopback ports under a
temporary directory, runs the scenarios, prints the figures, writes them to
.data/chaos/results.json (and with --write-docs into
docs/reliability.md), and stops everything it started. Exit 0 when every invariant held, 1
otherwise, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios as sc  # noqa: E402
from schema_fuzz import run_schemathesis  # noqa: E402
from stack import ROOT, Stack, log, private_binary  # noqa: E402

RESULTS_DIR = ROOT / ".data" / "chaos"
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- chaos:figures:begin -->", "<!-- chaos:figures:end -->"
ALL = ["kill9", "postgres", "faults", "worker_kill9", "events_kill9", "schemathesis"]


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ",".join(ALL))
    ap.add_argument("--skip-schemathesis", action="store_true")
    ap.add_argument("--lenient-fail-fast", dest="strict_fail_fast", action="store_false",
                    default=os.environ.get("CHAOS_STRICT_FAIL_FAST", "1") == "1",
                    help="only report, not fail, when requests during the outage are not 503 + Retry-After within the lease timeout")
    ap.add_argument("--write-docs", action="store_true", help="replace the figures block of docs/reliability.md")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, cluster)")
    ap.add_argument("--serve", type=float, metavar="SECONDS", help="only start the stack and keep it up (bounded)")
    ap.add_argument("--budget", type=float, default=float(os.environ.get("CHAOS_BUDGET_SECONDS", "420")),
                    help="hard limit for the whole run in seconds (default 420)")
    args = ap.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    if args.skip_schemathesis and "schemathesis" in only:
        only.remove("schemathesis")
    unknown = set(only) - set(ALL)
    if unknown:
        ap.error(f"unknown scenario(s) {sorted(unknown)}")

    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGALRM, _interrupted)
    signal.alarm(int(args.budget) + 900)  # the binary may still be building: allow for the wait below
    t0 = time.monotonic()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    st = Stack(keep=args.keep)
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine()}
    ok = True
    try:
        try:
            st.binary = private_binary(st.workdir)
            signal.alarm(int(args.serve + 60 if args.serve else args.budget))
            t0 = time.monotonic()
            st.init_postgres()
            st.migrate()
            st.start_sandbox()
            st.start_api()
        except Exception as exc:
            log(f"setup failed: {exc}")
            traceback.print_exc()
            return 2
        log(f"stack up: API {st.api_base}, sandbox {st.sandbox_base}, PostgreSQL 127.0.0.1:{st.pg_port}, dir {st.workdir}")
        if args.serve:
            log(f"serving for {args.serve:.0f} s (Ctrl-C stops); internal token in e2e/chaos/stack.py")
            try:
                time.sleep(args.serve)
            except KeyboardInterrupt:
                pass
            st.close()
            return 0
        plan = {
            "kill9": lambda: sc.scenario_kill9(st, n=env_int("CHAOS_KILL9_INVOICES", 800), kills=env_int("CHAOS_KILLS", 3)),
            "postgres": lambda: sc.scenario_postgres_outage(st, n=env_int("CHAOS_PG_INVOICES", 400),
                                                            outage=float(os.environ.get("CHAOS_PG_OUTAGE_SECONDS", "6")),
                                                            stop_mode=os.environ.get("CHAOS_PG_STOP_MODE", "fast"),
                                                            strict_fail_fast=args.strict_fail_fast),
            "faults": lambda: sc.scenario_sandbox_faults(st, n=env_int("CHAOS_FAULT_VIEWERS", 200), lost=env_int("CHAOS_LOST", 30)),
            "worker_kill9": lambda: sc.scenario_worker_kill9(st, n=env_int("CHAOS_WORKER_SUBSCRIPTIONS", 300),
                                                             batch=env_int("CHAOS_WORKER_BATCH_SIZE", 16),
                                                             latency_ms=env_int("CHAOS_WORKER_API_LATENCY_MS", 200),
                                                             notification_delay_ms=env_int("CHAOS_WORKER_NOTIFICATION_DELAY_MS", 8000)),
            "events_kill9": lambda: sc.scenario_events_kill9(st, subscriptions=env_int("CHAOS_EVENT_SUBSCRIPTIONS", 100),
                                                             rounds=env_int("CHAOS_EVENT_ROUNDS", 10)),
            "schemathesis": lambda: run_schemathesis(st.api_base, RESULTS_DIR / "schemathesis", st.workdir / "schemathesis",
                                                     max_time=env_int("CHAOS_SCHEMATHESIS_SECONDS", 55),
                                                     max_examples=env_int("CHAOS_SCHEMATHESIS_EXAMPLES", 30)),
        }
        for name in only:
            s0 = time.monotonic()
            try:
                res = plan[name]()
            except Exception as exc:
                traceback.print_exc()
                res = {"violations": [f"scenario crashed: {exc!r}"]}
            res["seconds"] = round(time.monotonic() - s0, 1)
            res["passed"] = not res["violations"]
            ok &= res["passed"]
            results[name] = res
            log(f"{name}: {'PASS' if res['passed'] else 'FAIL'} in {res['seconds']} s")
            for v in res["violations"][:10]:
                log(f"  violation: {v}")
            if st.api.poll() is not None:  # keep the later scenarios meaningful
                log(f"serve had exited ({st.api.returncode}); starting it again")
                results.setdefault("serve_exits", []).append({"after": name, "returncode": st.api.returncode})
                try:
                    st.start_api()
                except Exception as exc:
                    log(f"serve does not start again: {exc}; stopping")
                    ok = False
                    break
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc}); stopping everything")
        ok = False
        results["interrupted"] = str(exc)
    finally:
        signal.alarm(0)
        results["total_seconds"] = round(time.monotonic() - t0, 1)
        try:
            st.stop_processes()
            st.save_logs(RESULTS_DIR / "logs")
        finally:
            st.close()
    (RESULTS_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(render(results))
    if args.write_docs:
        write_docs(render(results))
        log(f"figures written to {DOC}")
    log(f"results in {RESULTS_DIR / 'results.json'}, server logs in {RESULTS_DIR / 'logs'}; {'PASS' if ok else 'FAIL'} in {results['total_seconds']} s")
    return 0 if ok else 1


def machine() -> str:
    try:
        cpus = os.cpu_count()
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
        return f"{cpus} CPUs, {mem} GB, load {os.getloadavg()[0]:.1f} at start"
    except Exception:
        return "?"


# --------------------------------------------------------------------------- report


def fmt(d) -> str:
    if isinstance(d, dict):
        return ", ".join(f"{k} {fmt(v)}" for k, v in d.items())
    if isinstance(d, list):
        return "; ".join(fmt(x) for x in d)
    return str(d)


def lat(d: dict) -> str:
    if not d or not d.get("n"):
        return "-"
    return f"p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms, max {d['max_ms']} ms"


def render(r: dict) -> str:
    out = [f"Run {r['started']} ({r['machine']}), debug build, {r['total_seconds']} s in all.", ""]
    if "kill9" in r and "notifications" in r["kill9"]:
        k = r["kill9"]
        out += [
            "**1. `kill -9` of `serve` under Pay load**", "",
            "| figure | value |", "|---|---|",
            f"| notifications | {k['notifications']} ({k['unique']} invoices + {k['duplicates']} duplicates), {k['senders']} concurrent senders, {k['load_seconds']} s |",
            f"| kills | {len(k['kills'])}: " + "; ".join(f"after {x['at_answered']} answers, ready again {x['down_s']} s later" for x in k["kills"]) + f" (a {k.get('restart_delay_s', 0.5)} s restart delay included) |",
            f"| first delivery | {fmt(k['first_delivery'])} |",
            f"| latency of the 200s | {lat(k['first_delivery_latency'])} |",
            f"| redelivered | {k['redelivery']['redelivered']} in {k['redelivery']['rounds']} round(s): {fmt(k['redelivery_outcomes'])}; never answered: {k['redelivery']['still_undelivered']} |",
            f"| invoices | {fmt(k['statuses'])} |",
            f"| invariants | {k['invariant_violations']} violation(s); audit: {k['audit']} |",
            "",
        ]
    if "postgres" in r and "during" in r["postgres"]:
        p = r["postgres"]
        d, a = p["during"], p["after"]
        ff = p["fail_fast"]
        out += [
            "**2. PostgreSQL stopped and started under load**", "",
            "| figure | value |", "|---|---|",
            f"| load | {p['notifications']} Pay notifications ({p['unique']} + {p['duplicates']} duplicates) at ~{p['rate_per_s']}/s, {p['senders']} senders; /health/ready every 0.1 s; GET /v1/invoices/{{id}} every 0.2 s |",
            f"| outage | `pg_ctl stop -m {p['stop_mode']}` ({p['postgres_stop_s']} s), down {p['outage_s']} s, `pg_ctl start` ({p['postgres_start_s']} s) |",
            f"| Pay sent during the outage | {d['pay']['requests']} requests: {fmt(d['pay']['outcomes'])}; all: {lat(d['pay']['latency'])}; failures: {lat(d['pay']['failure_latency'])}; with Retry-After: {d['pay']['with_retry_after']} |",
            f"| /health/ready sent during the outage | {d['ready']['requests']}: {fmt(d['ready']['outcomes'])}; all: {lat(d['ready']['latency'])}; failures: {lat(d['ready']['failure_latency'])}; first non-200 sent {p['ready_first_non_200_after_stop_s']} s after the stop |",
            f"| GET invoice sent during the outage | {d['read']['requests']}: {fmt(d['read']['outcomes'])}; all: {lat(d['read']['latency'])} |",
            f"| recovery (no restart of serve) | /health/ready 200 {p['recovery_ready_s']} s after PostgreSQL was back, first Pay 200 after {p['recovery_pay_s']} s; serve restarted: {p['serve_restarted']} |",
            f"| after the restart | Pay {fmt(a['pay']['outcomes'])}; ready {fmt(a['ready']['outcomes'])} |",
            f"| redelivered | {p['redelivery']['redelivered']} in {p['redelivery']['rounds']} round(s): {fmt(p['redelivery_outcomes'])}; never answered: {p['redelivery']['still_undelivered']} |",
            f"| fail fast (503 + Retry-After within the lease timeout; ready 503 within a second) | {'met' if ff['met'] else 'not met: ' + '; '.join(ff['problems'])} |",
            f"| invoices | {fmt(p['statuses'])} |",
            f"| invariants | {p['invariant_violations']} violation(s); audit: {p['audit']} |",
            "",
        ]
    if "faults" in r and "flows" in r["faults"]:
        f = r["faults"]
        out += [
            "**3. Sandbox faults during a flood of checkouts and payments**", "",
            "| figure | value |", "|---|---|",
            f"| viewers | {f['viewers']}; flows {fmt(f['flows'])}; faults `{json.dumps(f['faults'])}` |",
            f"| charges | {fmt(f['charge_outcomes'])}; sandbox API answers {fmt(f['sandbox_api'])}; flood {f['flood_seconds']} s |",
            f"| settled by notifications | all but {f['left_unpaid_after_notifications']} within {f['paid_by_notifications_within_s']} s of the flood's start |",
            f"| held-back Pay notifications | {fmt(f['held_back'])} |",
            "| reconcile runs | " + "; ".join(f"apiErrorRate {x['api_error_rate']}: exit {x['exit']}, {fmt(x['summary'])}" for x in f["reconcile_runs"]) + " |",
            f"| notifications received | {fmt(f['notifications_logged_total'])} |",
            f"| invoices | {fmt(f['statuses'])}; charged twice (one refunded): {f['double_charged_invoices']} |",
            f"| invariants | {f['invariant_violations']} violation(s); audit: {f['audit']} |",
            "",
        ]
    if "worker_kill9" in r and "at_kill" in r["worker_kill9"]:
        w = r["worker_kill9"]
        k = w["at_kill"]
        out += [
            "**4. `kill -9` of the worker mid-batch**", "",
            "| figure | value |", "|---|---|",
            f"| renewals | {w['subscriptions']} subscriptions bought with a saved card ({fmt(w['bought']['charges'])}, {w['bought']['seconds']} s), renewals due at once; batch {w['batch_size']}, lease {w['lease']}; sandbox faults `{json.dumps(w['faults'])}` |",
            f"| the kill | SIGKILL {k['after_s']} s after the first worker started: {k['done']} renewals done, {k['held']} held (their invoices: {fmt(k['held_invoices'])}) |",
            f"| the second worker | {'all done' if w.get('finished') else 'NOT all done'} {w.get('second_worker_s')} s after its start; SIGTERM: exit {w['sigterm']['exit']} in {w['sigterm']['seconds']} s |",
            f"| throughput | {w.get('renewal_seconds')} s from the first worker's start to the last renewal, {w.get('renewals_per_s')} renewals/s (the lease wait included) |",
            f"| jobs | {fmt(w['job_claims'])}; with an error recorded: {w['jobs_with_errors']} |",
            f"| renewal invoices | {fmt(w['renewal_invoices'])}; paid by {fmt(w['paid_by'])} (of those held at the kill: {fmt(w['held_at_kill_paid_by'])}) |",
            f"| charges | tokens/charge requests logged {fmt(w['charge_requests_logged'])}; the sandbox's latest transaction is the paying one for {w['sandbox_find_matches']} |",
            f"| invariants | {w['invariant_violations']} violation(s); audit: {w['audit']} |",
            "",
        ]
    if "schemathesis" in r and "runs" in r["schemathesis"]:
        s = r["schemathesis"]
        where = "the served `/openapi.yaml`" if s["schema"].startswith("http") else f"`{os.path.relpath(s['schema'], ROOT)}` (working tree)"
        out += [f"**5. schemathesis** ({where}, seed {s['seed']}, --max-examples {s['max_examples']}, --max-time {s['max_time_s']} per run)", "",
                "| token | requests | statuses | 5xx | failed checks | schemathesis' own errors | seconds |", "|---|---|---|---|---|---|---|"]
        for x in s["runs"]:
            out.append(f"| {x['label']} | {x['requests']} | {fmt(x['statuses'])} | {x['server_errors']} | {fmt(x['failed_checks']) or 'none'} | {x.get('tool_errors', 0)} | {x['seconds']} |")
        out.append("")
    verdicts = [f"{k}: {'PASS' if r[k].get('passed') else 'FAIL'}" for k in ALL if k in r]
    out.append("Verdict: " + ", ".join(verdicts) + ".")
    return "\n".join(out)


def write_docs(figures: str):
    text = DOC.read_text() if DOC.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{figures}\n{END}{tail}")


if __name__ == "__main__":
    sys.exit(main())
