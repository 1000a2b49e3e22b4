"""schemathesis against the running server's /openapi.yaml: once with a viewer token (public API,
payment pages, webhooks, ops) and once with the service token (internal API). Bounded by
--max-examples and --max-time. 0 server errors (5xx) is required; other failed checks (spec
mismatches) are counted and listed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from stack import INTERNAL_TOKEN, log, mint_jwt


def ensure_schemathesis() -> list[str]:
    """The `st` command line, installing schemathesis with pip when it is missing."""
    def found() -> list[str] | None:
        probe = subprocess.run([sys.executable, "-c", "import schemathesis"], capture_output=True)
        if probe.returncode == 0:
            st = shutil.which("st") or shutil.which("schemathesis")
            return [st] if st else ([sys.executable, "-m", "schemathesis.cli"] if _module_runs() else None)
        return None

    def _module_runs() -> bool:
        return subprocess.run([sys.executable, "-m", "schemathesis.cli", "--version"], capture_output=True).returncode == 0

    cmd = found()
    if cmd:
        return cmd
    log("schemathesis is missing; installing it with pip")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "schemathesis"],
                   check=True, timeout=600)
    cmd = found()
    if not cmd:
        raise RuntimeError("schemathesis could not be installed")
    return cmd


CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"


def run_one(st_cmd: list[str], label: str, schema: str, base_url: str, token: str, includes: list[str],
            report_dir: Path, scratch: Path, max_examples: int, max_time: int, seed: int) -> dict:
    """One schemathesis run; its checks (all, but the deviations in schemathesis.toml) and reports."""
    report_dir.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    junit = report_dir / f"{label}.junit.xml"
    ndjson = scratch / f"{label}.ndjson"  # tens of MB: parsed, then deleted with the scratch dir
    cmd = st_cmd + [
        "--no-color", "--config-file", str(CONFIG),
        "run", schema, "--url", base_url,
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(max_examples), "--max-time", str(max_time),
        "--seed", str(seed), "--workers", "2", "--request-timeout", "10",
        "--continue-on-failure",
        "--report", "junit,ndjson", "--report-junit-path", str(junit), "--report-ndjson-path", str(ndjson),
        "--output-truncate", "true", "--warnings", "off",
    ]
    for inc in includes:
        cmd += inc.split(" ", 1)
    log(f"schemathesis ({label}): {' '.join(c if 'Bearer' not in c else 'Authorization: Bearer ***' for c in cmd)}")
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=max_time + 120, cwd=scratch,
                         env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
    seconds = time.monotonic() - t0
    (report_dir / f"{label}.out.txt").write_text(out.stdout + out.stderr)
    text = out.stdout + out.stderr
    result = {"label": label, "exit": out.returncode, "seconds": round(seconds, 1), **parse_output(text, ndjson)}
    # Errors are the server going away (a failure) or schemathesis/hypothesis failing in itself
    # ("Runtime Error", e.g. hypothesis' "AST constructor recursion depth mismatch" on Python 3.11):
    # the latter are reported, not held against the API.
    errors_section = text.split("ERRORS ====", 1)[1].split("WARNINGS ====", 1)[0] if "ERRORS ====" in text else ""
    result["server_unavailable"] = errors_section.count("Server Unavailable")
    result["tool_errors"] = errors_section.count("Runtime Error")
    return result


def parse_output(text: str, ndjson: Path) -> dict:
    """Counts from the run's ndjson events: requests made, statuses, failed checks by name."""
    statuses: dict[str, int] = {}
    failures: dict[str, int] = {}
    failing_ops: dict[str, set] = {}
    requests_made = 0
    server_errors: list[str] = []
    try:
        lines = ndjson.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    errors = 0
    for line in lines:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        errors += sum(1 for name in ev if name in ("NonFatalError", "FatalError"))
        for name, body in ev.items():
            if not isinstance(body, dict):
                continue
            if name == "ScenarioFinished":
                label = body.get("label") or ""
                for case in (body.get("recorder") or {}).get("interactions", {}).values():
                    resp = (case or {}).get("response") or {}
                    code = resp.get("status_code")
                    if code is None:
                        continue
                    requests_made += 1
                    statuses[str(code)] = statuses.get(str(code), 0) + 1
                    if int(code) >= 500:
                        req = (case or {}).get("request") or {}
                        server_errors.append(f"{req.get('method')} {req.get('uri')} -> {code}")
                for check_list in ((body.get("recorder") or {}).get("checks") or {}).values():
                    for chk in check_list or []:
                        if chk.get("status") == "failure":
                            n = chk.get("name")
                            failures[n] = failures.get(n, 0) + 1
                            failing_ops.setdefault(n, set()).add(label)
    summary = re.findall(r"^.*(?:passed|failed|errored|skipped).*$", text, re.M)
    return {
        "requests": requests_made, "statuses": dict(sorted(statuses.items())), "errors": errors,
        "server_errors": len(server_errors), "server_error_examples": server_errors[:10],
        "failed_checks": dict(sorted(failures.items())),
        "failing_operations": {k: sorted(v) for k, v in sorted(failing_ops.items())},
        "summary_lines": summary[-6:],
    }


def run_schemathesis(api_base: str, report_dir: Path, scratch: Path, max_time: int = 55, max_examples: int = 30,
                     seed: int | None = None, schema: str | None = None) -> dict:
    st_cmd = ensure_schemathesis()
    schema = schema or os.environ.get("MOVIX_SCHEMATHESIS_SCHEMA") or f"{api_base}/openapi.yaml"
    if not schema.startswith(("http://", "https://")):
        schema = str(Path(schema).resolve())  # schemathesis runs in a scratch directory
    seed = seed if seed is not None else int(os.environ.get("CHAOS_SEED", "0") or 0) or 20261202
    viewer = mint_jwt(str(uuid.uuid4()))
    runs = [
        run_one(st_cmd, "viewer", schema, api_base, viewer,
                ["--exclude-tag internal"], report_dir, scratch, max_examples, max_time, seed),
        run_one(st_cmd, "service", schema, api_base, INTERNAL_TOKEN,
                ["--include-tag internal"], report_dir, scratch, max_examples, max_time, seed),
    ]
    total_5xx = sum(r["server_errors"] for r in runs)
    violations = [f"{r['label']}: {e}" for r in runs for e in r["server_error_examples"]]
    if total_5xx and not violations:
        violations.append(f"{total_5xx} server errors")
    for r in runs:
        for name, n in r["failed_checks"].items():
            if name != "not_a_server_error":
                violations.append(f"{r['label']}: {n} x {name} on {', '.join(r['failing_operations'].get(name, []))}")
        if r["server_unavailable"]:
            violations.append(f"{r['label']}: the server stopped responding; see {report_dir}/{r['label']}.out.txt")
        if r["errors"] > r["tool_errors"] + r["server_unavailable"]:
            violations.append(f"{r['label']}: {r['errors']} schemathesis error(s); see {report_dir}/{r['label']}.out.txt")
        if r["requests"] == 0:
            violations.append(f"{r['label']}: schemathesis made no request (exit {r['exit']}); see {report_dir}/{r['label']}.out.txt")
    return {"schema": schema, "seed": seed, "max_examples": max_examples, "max_time_s": max_time, "runs": runs,
            "server_errors": total_5xx, "violations": violations}
