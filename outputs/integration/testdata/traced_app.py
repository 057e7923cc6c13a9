"""traced_app: a small FastAPI backend instrumented the way a team's app is, for trace_e2e_test.go.

A middleware reads the incoming W3C traceparent of every API request (what an OpenTelemetry server
instrumentation does to make its server span the child of the caller's), records it, and observes
the app's own golden signals under the names the FastAPI instrumentator uses:
http_requests_total{method,status,handler} (status grouped, "2xx") and the classic histogram
http_request_duration_seconds{method,handler}, with the trace id as an exemplar on sampled
requests (flag 01). /metrics serves them in the OpenMetrics format, the one that carries
exemplars. /seen returns every traceparent recorded ("" for a request without one), in arrival
order; /metrics and /seen themselves are neither recorded nor counted.

For SPIKE_FOR seconds, starting SPIKE_AFTER seconds after the first API request, every answer is
late: a latency spike, whose exemplars the test follows from loadplan's panel to the app's. The
n-th request of the spike takes SPIKE_MS + n * SPIKE_STEP_MS longer, so that a later request is a
slower one: the app's histogram keeps the latest exemplar of a bucket, loadplan the slowest of
each quarter second, and at the top of the spike both keep the same request.

Usage: python3 traced_app.py PORT MAX_SECONDS. It binds 127.0.0.1 only and exits by itself after
MAX_SECONDS, should the test that started it not stop it.
"""

import asyncio
import os
import re
import sys
import threading
import time

import uvicorn
from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest

SPIKE_AFTER = 2.0
SPIKE_FOR = 2.0  # 50 of the test's iterations: one is sampled but for a chance of 0.8**50
SPIKE_MS = 300
SPIKE_STEP_MS = 5

# version 00, a non-zero trace id and span id in lowercase hex, flags (bit 0: sampled).
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

registry = CollectorRegistry()
REQUESTS = Counter("http_requests", "Total number of requests by method, status and handler.",
                   ["method", "status", "handler"], registry=registry)
DURATION = Histogram("http_request_duration_seconds", "Latency with only few buckets by handler.",
                     ["method", "handler"], registry=registry,
                     buckets=[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])

app = FastAPI()
seen = []  # every traceparent, in arrival order; the event loop is the only writer
first = None  # monotonic time of the first API request
spiked = 0  # requests slowed by the spike so far


@app.middleware("http")
async def trace_and_measure(request: Request, call_next):
    global first
    if request.url.path in ("/metrics", "/seen"):
        return await call_next(request)
    start = time.monotonic()
    if first is None:
        first = start
    header = request.headers.get("traceparent", "")
    seen.append(header)
    response = await call_next(request)
    route = request.scope.get("route")
    handler = route.path if route is not None else "none"
    elapsed = time.monotonic() - start
    m = TRACEPARENT.match(header)
    exemplar = None
    if m and m.group(1) != "0" * 32 and int(m.group(3), 16) & 1:
        exemplar = {"trace_id": m.group(1)}
    DURATION.labels(request.method, handler).observe(elapsed, exemplar)
    REQUESTS.labels(request.method, f"{response.status_code // 100}xx", handler).inc()
    return response


@app.get("/api/stocks/{symbol}")
async def stock(symbol: str):
    global spiked
    if first is not None and SPIKE_AFTER <= time.monotonic() - first < SPIKE_AFTER + SPIKE_FOR:
        spiked += 1
        await asyncio.sleep((SPIKE_MS + spiked * SPIKE_STEP_MS) / 1000)
    return {"symbol": symbol, "price": 101.5}


@app.get("/metrics")
def metrics():
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@app.get("/seen")
def seen_headers():
    return list(seen)


def main():
    port, max_seconds = int(sys.argv[1]), float(sys.argv[2])
    # A bound of its own: the process ends even if the test's kill never comes.
    watchdog = threading.Timer(max_seconds, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
