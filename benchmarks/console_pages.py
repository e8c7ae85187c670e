#!/usr/bin/env python
"""Benchmark: the server time of the console's list pages with 1,000,000 jobs (issue 16: < 300 ms).

Run by hand (it is not a test)::

    python benchmarks/console_pages.py --reuse   # the data of benchmarks/odata_jobs.py (podium_bench)

The console is a single-page app: a page's server time is the time of the API requests it makes. This
script sends exactly the requests the Jobs page (default view and each filter of the seed) and the Home
page send (same query strings as ``src/podium/web/static/js``), one page at a time as one browser does,
and prints per page the p50/p95/max of the server time before the page is drawn (its requests in
sequence: an upper bound, the browser sends Home's counts in parallel) and, for a list, with the total
it fills in afterwards (list.js asks for the rows first, then ``$top=0&$count=true``), measured from a
local client, and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
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


Request = tuple[str, dict[str, str]]


def jobs_page(extra: str | None = None) -> tuple[list[Request], list[Request]]:
    """list.js: the rows first ($count=false: Podium counts unless told not to), drawn at once; then the
    total alone ($top=0&$count=true)."""
    rows = {
        "$top": "25",
        "$skip": "0",
        "$count": "false",
        "$orderby": "CreationTime desc",
        "$expand": "Robot",
    }
    total = {"$top": "0", "$count": "true"}
    if extra:
        rows["$filter"] = total["$filter"] = extra
    return [("/odata/Jobs", rows)], [("/odata/Jobs", total)]


def pages(robot_id: int, release: str) -> dict[str, tuple[list[Request], list[Request]]]:
    """Per page: the requests before it is drawn, and those that fill in its total afterwards."""
    since = iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=24))
    week = iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=7))
    jobs = "/odata/Jobs"
    result = {
        "Jobs (default)": jobs_page(),
        "Jobs state=Faulted": jobs_page("(State eq 'Faulted')"),
        f"Jobs robot={robot_id} state=Successful": jobs_page(
            f"(State eq 'Successful') and (Robot/Id eq {robot_id})"
        ),
        "Jobs process contains": jobs_page(f"(contains(ReleaseName,'{release}'))"),
        "Jobs last 7 days": jobs_page(f"(CreationTime ge {week})"),
        "Jobs text in Info": jobs_page("(contains(Info,'Logon failure'))"),
    }
    # home.js, in its order (an administrator sees every tile)
    unread = {"$filter": "State eq 'Unread'", "$orderby": "CreationTime desc", "$top": "5", "$count": "true"}
    home: list[Request] = [("/odata/Alerts", unread)]
    home += [
        (jobs, {"$filter": f"State eq '{s}' and CreationTime ge {since}", "$top": "0", "$count": "true"})
        for s in STATES
    ]
    home.append(
        (jobs, {"$filter": "State eq 'Faulted'", "$orderby": "Id desc", "$top": "5", "$count": "false"})
    )
    home.append(("/odata/Sessions", {"$top": "1000"}))
    backlog = {"$top": "10", "$orderby": "ItemsToProcess desc"}
    home.append(("/odata/QueueProcessingRecords/UiPathODataSvc.RetrieveQueuesProcessingStatus", backlog))
    sla = {"$filter": "SlaInMinutes gt 0 or RiskSlaInMinutes gt 0", "$orderby": "Name asc", "$top": "10"}
    home.append(("/odata/QueueDefinitions", sla))
    result["Home"] = (home, [])
    return result


def timed(http: httpx.Client, requests: list[Request]) -> float:
    """Seconds of the requests one after the other (the browser overlaps some: an upper bound)."""
    spent = 0.0
    for path, query in requests:
        start = time.perf_counter()
        response = http.get(path, params=query)
        spent += time.perf_counter() - start
        response.raise_for_status()
    return spent


def summary(values: list[float]) -> str:
    values = sorted(values)
    p50, p95 = statistics.median(values), values[max(int(len(values) * 0.95) - 1, 0)]
    return f"p50 {p50:7.1f}  p95 {p95:7.1f}  max {values[-1]:7.1f} ms"


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
                print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
                print(
                    f"{known.rounds} rounds per page after 3 warm-up rounds; target: a page drawn "
                    f"(its requests before the rows show) in < {TARGET_MS:.0f} ms server time (p95)"
                )
                failed = False
                for name, (drawn_requests, after_requests) in plan.items():
                    drawn: list[float] = []
                    total: list[float] = []
                    for round_ in range(known.rounds + 3):
                        first = timed(http, drawn_requests) * 1000
                        rest = timed(http, after_requests) * 1000
                        if round_ >= 3:
                            drawn.append(first)
                            total.append(first + rest)
                    drawn.sort()
                    verdict = "ok" if drawn[max(int(len(drawn) * 0.95) - 1, 0)] < TARGET_MS else "OVER"
                    failed |= verdict != "ok"
                    print(f"  {name:<38} drawn ({len(drawn_requests)} req): {summary(drawn)}  {verdict}")
                    if after_requests:
                        print(f"  {'':<38} with its total:   {summary(total)}")
                print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
