"""Throughput and latency of the credentials server answering from its cache, on 127.0.0.1 only.

Starts a ``CredentialsServer`` with static test credentials (valid for an hour, so no refresh happens), then
N client threads each open one keep-alive connection and send authorised GETs until the shared request
budget is spent or the time limit is hit. Prints requests per second and p50/p90/p99/max latency.

    python benchmarks/server_throughput.py [--threads 8] [--requests 20000] [--max-seconds 30]
    python benchmarks/server_throughput.py --new-connections   # one TCP connection per request, as botocore's
                                                               # container fetcher does on each refresh
    python benchmarks/server_throughput.py --processes 2 --threads 4   # clients in other processes

Without ``--processes`` the clients and the server share one Python process (and its interpreter lock), so the
figures are a lower bound; with it, client processes compete with the server for CPU cores instead.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
from datetime import timedelta

from rolecall.credentials import Credentials
from rolecall.refresh import RefreshingCredentials
from rolecall.server import CredentialsServer
from rolecall.timefmt import utc_now


def _client_batch(
    port: int, path: str, token: str, threads: int, requests: int, max_seconds: float, new_connections: bool
) -> tuple[list[float], list[str]]:
    """Send up to ``requests`` GETs from ``threads`` threads (one keep-alive connection each); return latencies
    in seconds and any errors. Runs in the benchmark process or in a client process (``--processes``)."""
    budget = threading.Semaphore(requests)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []
    headers = {"Authorization": token}
    deadline = time.monotonic() + max_seconds
    start_line = threading.Barrier(threads)

    def client(index: int) -> None:
        mine = latencies[index]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start_line.wait()
        try:
            while time.monotonic() < deadline and budget.acquire(blocking=False):
                if new_connections:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                began = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                mine.append(time.perf_counter() - began)
                if response.status != 200 or b"ASIABENCHMARK" not in body:
                    errors.append(f"status {response.status}")
                    return
        except OSError as error:
            errors.append(type(error).__name__)
        finally:
            conn.close()

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [x for mine in latencies for x in mine], errors


def run(threads: int, requests: int, max_seconds: float, new_connections: bool, processes: int = 0) -> dict[str, float]:
    """Hammer a fresh server; return the measured figures. ``processes`` > 0 runs the client threads in that
    many separate processes (as real SDK clients are), so they do not share the server's interpreter lock."""
    credentials = Credentials(
        "ASIABENCHMARK0000000", "benchmark-secret-not-real", "benchmark-token", utc_now() + timedelta(hours=1)
    )
    source = RefreshingCredentials(lambda: credentials)
    source.get()  # fill the cache before timing: the benchmark measures answers from cache
    with CredentialsServer(source, max_connections=max(256, threads * max(processes, 1) * 2)) as server:
        args = (server.port, server.path, server.token)
        began = time.perf_counter()
        if processes <= 0:
            flat, errors = _client_batch(*args, threads, requests, max_seconds, new_connections)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            share = -(-requests // processes)
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(processes, mp_context=context) as pool:
                # Start-up of the client processes is not part of the measurement: warm the pool first.
                list(pool.map(time.sleep, [0.0] * processes))
                began = time.perf_counter()
                batches = list(
                    pool.map(
                        _client_batch,
                        *zip(*[(*args, threads, share, max_seconds, new_connections)] * processes, strict=True),
                    )
                )
            flat = [x for batch, _ in batches for x in batch]
            errors = [e for _, batch_errors in batches for e in batch_errors]
        elapsed = time.perf_counter() - began
    flat.sort()
    if errors:
        raise SystemExit(f"errors during the run: {errors[:5]}")
    if not flat:
        raise SystemExit("no request completed")

    def pct(p: float) -> float:
        return flat[min(len(flat) - 1, int(p / 100 * len(flat)))] * 1000

    return {
        "requests": len(flat),
        "seconds": elapsed,
        "requests_per_second": len(flat) / elapsed,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": flat[-1] * 1000,
        "mean_ms": statistics.fmean(flat) * 1000,
    }


def main() -> None:
    """Parse the bounds, run, print the figures (human line on stdout, then one JSON line)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="client threads, one keep-alive connection each")
    parser.add_argument("--requests", type=int, default=20000, help="total requests (the bound)")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="stop early after this long")
    parser.add_argument("--new-connections", action="store_true", help="a new TCP connection for every request")
    parser.add_argument("--processes", type=int, default=0, help="run the client threads in this many processes")
    args = parser.parse_args()
    figures = run(args.threads, args.requests, args.max_seconds, args.new_connections, args.processes)
    mode = "new connection per request" if args.new_connections else "keep-alive"
    where = f"{args.processes} processes x {args.threads} threads" if args.processes else f"{args.threads} threads"
    print(
        f"{figures['requests']:.0f} requests from {where} ({mode}) in {figures['seconds']:.2f} s: "
        f"{figures['requests_per_second']:.0f} req/s, p50 {figures['p50_ms']:.2f} ms, "
        f"p90 {figures['p90_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, max {figures['max_ms']:.2f} ms"
    )
    rounded = {name: round(value, 3) for name, value in figures.items()}
    print(json.dumps({"threads": args.threads, "processes": args.processes, "mode": mode, **rounded}))


if __name__ == "__main__":
    main()
