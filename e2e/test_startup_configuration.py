"""A bad deployment stops at start-up with a message that names the setting to fix.

Runs `movix-billing serve` as a real process with broken environments; no server or
database is needed because start-up must refuse before it touches either."""

from __future__ import annotations

import subprocess

import pytest

import harness as h

VALID = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:1/movix_billing",
    "MOVIX_JWT_SECRET": h.JWT_SECRET,
    "MOVIX_INTERNAL_TOKEN": h.INTERNAL_TOKEN,
    "MOVIX_CLOUDPAYMENTS_PUBLIC_ID": h.PUBLIC_ID,
    "MOVIX_CLOUDPAYMENTS_API_SECRET": h.API_SECRET,
}


@pytest.mark.parametrize(
    "change, named",
    [
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL"),
        ({"MOVIX_HTTP_PORT": "eighty"}, "MOVIX_HTTP_PORT"),
        ({"MOVIX_HTTP_PORT": "70000"}, "MOVIX_HTTP_PORT"),
        ({"MOVIX_JWT_SECRET": None}, "MOVIX_JWT_SECRET"),
        ({"MOVIX_JWT_SECRET": "too-short"}, "MOVIX_JWT_SECRET"),
        ({"MOVIX_INTERNAL_TOKEN": None}, "MOVIX_INTERNAL_TOKEN"),
        ({"MOVIX_CLOUDPAYMENTS_API_SECRET": None}, "MOVIX_CLOUDPAYMENTS_API_SECRET"),
        ({"MOVIX_CLOUDPAYMENTS_API_URL": "not a url"}, "MOVIX_CLOUDPAYMENTS_API_URL"),
        ({"MOVIX_PUBLIC_URL": "ftp://billing"}, "MOVIX_PUBLIC_URL"),
    ],
)
def test_serve_refuses_a_bad_setting_and_names_it(change, named):
    env = {"PATH": "/usr/bin:/bin", **VALID}
    for name, value in change.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    run = subprocess.run([str(h.BINARY), "serve"], env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 78, run
    assert f"Configuration error: {named}" in run.stderr, run.stderr


def test_serve_refuses_a_database_that_is_not_migrated(movix):
    """`serve` does not start on an old schema; it says to run `migrate` (which then fixes it)."""
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(h.POSTGRES_PORT), "-U", "postgres", "-d", "postgres", "-X", "-q",
         "-c", "DROP DATABASE IF EXISTS movix_unmigrated", "-c", "CREATE DATABASE movix_unmigrated"],
        check=True, capture_output=True, timeout=30,
    )
    env = {"PATH": "/usr/bin:/bin", **VALID,
           "DATABASE_URL": f"postgres://postgres@127.0.0.1:{h.POSTGRES_PORT}/movix_unmigrated", "MOVIX_HTTP_PORT": "1"}
    refused = subprocess.run([str(h.BINARY), "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 78, refused
    assert "run `movix-billing migrate` first" in refused.stderr, refused.stderr

    migrated = subprocess.run([str(h.BINARY), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated
    versions = sorted(int(path.name.split("_")[0]) for path in (h.ROOT / "Sources" / "Storage" / "Migrations").glob("*.sql"))
    assert f"Applied migrations: {', '.join(map(str, versions))}." in migrated.stdout, migrated.stdout
    again = subprocess.run([str(h.BINARY), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert "Database is up to date." in again.stdout, again.stdout
