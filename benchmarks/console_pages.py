#!/usr/bin/env python
"""Benchmark: the server time of the console's list pages with 1,000,000 jobs (issue 16: < 300 ms).

Run by hand (it is not a test)::

    python benchmarks/console_pages.py --reuse   # the data of benchmarks/odata_jobs.py (podium_bench)

The console is a single-page app: a page's server time is the time of the API requests it makes. This
script sends exactly the requests the Jobs page (default view and each filter of the seed) and the Home
page send (same query strings as ``src/podium/web/static/js``), one page at a time as one browser does,
and prints per page the p50/p95/max of the page's total server time (its requests in sequence: an upper
bound, the browser sends Home's counts in parallel) measured from a local client.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from odata_jobs import authenticate, ensure_data, parse_args, podium_server

TARGET_MS = 300.0
STATES = ["Pending", "Running", "Successful", "Faulted", "Stopped", "Suspended"]


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def jobs_page(extra: str | None = None) -> list[dict[str, str]]:
    query = {
        "$top": "25",
        "$skip": "0",
        "$count": "true",
        "$orderby": "CreationTime desc",
        "$expand": "Robot",
    }
    if extra:
        query["$filter"] = extra
    return [query]


def pages(robot_id: int, release: str) -> dict[str, list[tuple[str, dict[str, str]]]]:
    since = iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=24))
    week = iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=7))
    jobs = "/odata/Jobs"
    listed = {
        "Jobs (default)": jobs_page(),
        "Jobs state=Faulted": jobs_page("(State eq 'Faulted')"),
        f"Jobs robot={robot_id} state=Successful": jobs_page(
            f"(State eq 'Successful') and (Robot/Id eq {robot_id})"
        ),
        "Jobs process contains": jobs_page(f"(contains(ReleaseName,'{release}'))"),
        "Jobs last 7 days": jobs_page(f"(CreationTime ge {week})"),
        "Jobs text in Info": jobs_page("(contains(Info,'Logon failure'))"),
    }
    result = {name: [(jobs, q) for q in queries] for name, queries in listed.items()}
    home = [
        (jobs, {"$filter": f"State eq '{s}' and CreationTime ge {since}", "$top": "0", "$count": "true"})
        for s in STATES
    ]
    home.append((jobs, {"$filter": "State eq 'Faulted'", "$orderby": "EndTime desc", "$top": "5"}))
    home.append(("/odata/Sessions", {"$top": "1000"}))
    result["Home"] = home
    return result


def main() -> int:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--rounds", type=int, default=30)
    known, rest = extra.parse_known_args()
    args = parse_args(rest)
    ensure_data(args)
    with tempfile.TemporaryDirectory(prefix="podium-console-bench-") as data:
        from odata_jobs import APP_API, bench_url

        with podium_server(
            bench_url(args.database_url, APP_API), Path(data), "warning", args.workers
        ) as server:
            token = authenticate(server.base_url)
            headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as http:
                robot = http.get("/odata/Jobs", params={"$top": "1", "$expand": "Robot"}).json()["value"][0]
                plan = pages(robot["Robot"]["Id"], robot["ReleaseName"][:6])
                print(
                    f"{known.rounds} rounds per page after 3 warm-up rounds; "
                    f"target: page server time < {TARGET_MS:.0f} ms"
                )
                failed = False
                for name, requests in plan.items():
                    totals: list[float] = []
                    for round_ in range(known.rounds + 3):
                        spent = 0.0
                        for path, query in requests:
                            start = time.perf_counter()
                            response = http.get(path, params=query)
                            spent += time.perf_counter() - start
                            response.raise_for_status()
                        if round_ >= 3:
                            totals.append(spent * 1000)
                    totals.sort()
                    p50, p95 = statistics.median(totals), totals[int(len(totals) * 0.95) - 1]
                    verdict = "ok" if p95 < TARGET_MS else "OVER"
                    failed |= verdict != "ok"
                    print(
                        f"  {name:<42} {len(requests)} request(s)  p50 {p50:7.1f} ms  "
                        f"p95 {p95:7.1f} ms  max {totals[-1]:7.1f} ms  {verdict}"
                    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
