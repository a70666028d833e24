"""Load test of `slipcatch serve` on loopback (benchmarks/README.md, "Workbench").

Builds a case with N events (the bundled demo case analysed, then N synthetic events written
straight into its ``events`` table, with observations for its latest run, by DuckDB from
``range(N)``; about 10 % of them belong to the demo's attributed persona), serves it with
``slipcatch serve`` in a child process, and runs C concurrent clients (threads, keep-alive
``http.client``) for S seconds against the persona page of "Guardians of Peace" and the
evidence page (random filters and pages). Reports requests, errors and latency percentiles.

    .venv/bin/python benchmarks/serve/load.py                      # 1 M events, 50 clients, 30 s
    .venv/bin/python benchmarks/serve/load.py --events 20000 --clients 5 --seconds 3   # short
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import duckdb

ROOT = Path(__file__).resolve().parents[2]
PERSONA = "Guardians of Peace"
CHANNELS = ("web", "email", "posting")
CATEGORIES = ("tor", "vpn", "hosting", "residential", "unknown", "proxy")
COUNTRIES = ("DE", "FR", "NL", "US", "SE", "RO", "TH", "JP", "KR", "CN")


def build_case(case: Path, events: int) -> dict[str, Any]:
    """The demo case analysed into ``case``, plus ``events`` synthetic events; returns facts."""
    sys.path.insert(0, str(ROOT / "tests"))
    from web.harness import analyze_demo  # the tests' own demo builder

    t0 = time.perf_counter()
    analyze_demo(case=case)
    con = duckdb.connect(str(case))
    con.execute("SET enable_progress_bar = false")
    try:
        (run_id,) = con.execute(
            "SELECT run_id FROM runs ORDER BY generated_at DESC, run_id LIMIT 1"
        ).fetchone() or ("",)
        personas = [PERSONA] + [f"bulk-persona-{k:03d}" for k in range(200)]
        con.execute("CREATE TEMP TABLE p AS SELECT unnest(?::VARCHAR[]) AS name, "
                    "generate_subscripts(?::VARCHAR[], 1) - 1 AS k", [personas, personas])
        con.execute(
            """
            INSERT INTO events (id, time, src_ip, persona, channel, path, sha256, locator,
                                origin_trust, entry_ip, attributes, hops)
            SELECT 'ev--bulk' || lpad(CAST(i AS VARCHAR), 10, '0'),
                   TIMESTAMPTZ '2014-11-20 00:00:00+00' + to_seconds(i * 2.6),
                   '10.' || CAST((i // 65536) % 256 AS VARCHAR) || '.'
                        || CAST((i // 256) % 256 AS VARCHAR) || '.' || CAST(i % 256 AS VARCHAR),
                   CASE WHEN i % 10 = 0 THEN ? ELSE 'bulk-persona-'
                        || lpad(CAST(i % 200 AS VARCHAR), 3, '0') END,
                   (?::VARCHAR[])[1 + i % 3],
                   'synthetic/bulk.log', 'sha256-bulk', 'line ' || CAST(i + 1 AS VARCHAR),
                   NULL, NULL,
                   '{"request": "GET /item/' || CAST(i AS VARCHAR) || '", "status": "200"}',
                   '[]'
            FROM range(?) t(i)
            """,
            [PERSONA, list(CHANNELS), events],
        )
        con.execute(
            """
            INSERT INTO observations
            SELECT ?, 'ev--bulk' || lpad(CAST(i AS VARCHAR), 10, '0'),
                   (?::VARCHAR[])[1 + i % 6], (?::VARCHAR[])[1 + (i // 7) % 10],
                   NULL, NULL, NULL, NULL
            FROM range(?) t(i)
            """,
            [run_id, list(CATEGORIES), list(COUNTRIES), events],
        )
        (total,) = con.execute("SELECT count(*) FROM events").fetchone() or (0,)
        (gop,) = con.execute("SELECT count(*) FROM events WHERE persona = ?",
                             [PERSONA]).fetchone() or (0,)
    finally:
        con.close()
    return {"events": int(total), "persona_events": int(gop),
            "build_seconds": round(time.perf_counter() - t0, 1)}


def start_server(case: Path) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("slipcatch")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "slipcatch.cli"]
    proc = subprocess.Popen([*cmd, "serve", str(case), "--port", "0"], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"serve printed {url!r}")
    return proc, url


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def run_load(url: str, clients: int, seconds: float, seed: int = 1) -> dict[str, Any]:
    """C threads, each with one keep-alive connection, for S seconds; persona and evidence
    pages alternately. An error is any status but 200, or a failed connection."""
    parts = urlsplit(url)
    token = parts.query.split("token=", 1)[1]
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    conn = http.client.HTTPConnection(host, port, timeout=120)
    conn.request("GET", f"/.json?token={token}")
    doc = json.loads(conn.getresponse().read())
    conn.close()
    pid = next(p["id"] for p in doc["personas"] if p["name"] == PERSONA)
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {"persona": [], "evidence": []}
    errors: list[str] = []

    def client(k: int) -> None:
        rnd = random.Random(seed * 1000 + k)
        c = http.client.HTTPConnection(host, port, timeout=120)
        headers = {"Cookie": f"slipcatch_token={token}"}
        n = 0
        while time.monotonic() < deadline:
            n += 1
            if n % 2:
                kind, path = "persona", f"/persona/{pid}"
            else:
                kind = "evidence"
                flt = rnd.choice([
                    f"persona={quote(PERSONA)}", f"channel={rnd.choice(CHANNELS)}",
                    f"category={rnd.choice(CATEGORIES)}&country={rnd.choice(COUNTRIES)}", "",
                ])
                path = f"/evidence?{flt}&page={rnd.randint(1, 200)}"
            t = time.perf_counter()
            try:
                c.request("GET", path, headers=headers)
                r = c.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as exc:
                status = 0
                c.close()
                c = http.client.HTTPConnection(host, port, timeout=120)
                with lock:
                    errors.append(f"{path}: {type(exc).__name__}: {exc}")
            dt = time.perf_counter() - t
            with lock:
                latencies[kind].append(dt)
                if status not in (0, 200):
                    errors.append(f"{path}: HTTP {status}")
        c.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    every = latencies["persona"] + latencies["evidence"]
    ms = lambda v: round(1000 * v, 1)  # noqa: E731
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(every),
        "requests_per_second": round(len(every) / wall, 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_ms": ms(_percentile(every, 0.50)),
        "p95_ms": ms(_percentile(every, 0.95)),
        "max_ms": ms(max(every)) if every else None,
        "persona_p95_ms": ms(_percentile(latencies["persona"], 0.95)),
        "evidence_p95_ms": ms(_percentile(latencies["evidence"], 0.95)),
        "persona_requests": len(latencies["persona"]),
        "evidence_requests": len(latencies["evidence"]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--case", type=Path, help="reuse (or build) this case file")
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="slipcatch-load-")
    os.environ.setdefault("SLIPCATCH_CACHE", str(Path(tmp.name) / "cache"))
    case = args.case or Path(tmp.name) / "load.duckdb"
    built = build_case(case, args.events) if not case.exists() else {"events": "reused"}
    t = time.perf_counter()
    proc, url = start_server(case)
    started = round(time.perf_counter() - t, 1)
    try:
        result = run_load(url, args.clients, args.seconds)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
        tmp.cleanup()
    load = os.getloadavg()
    print(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "case": built, "server_start_seconds": started, **result,
                      "loadavg_after": [round(x, 2) for x in load], "cpus": os.cpu_count()},
                     indent=2))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
