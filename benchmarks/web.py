"""The web server under a bounded load: requests/s and p50/p95 latency for a 1 MP JPEG at 1, 4 and 16
concurrent clients, errors, and the server's memory before and after.

Starts ``fashion-serve`` on a free loopback port, waits for /healthz, sends a warm-up, then for each
concurrency a fixed number of ``POST /api/classify`` requests (raw image/jpeg body, one keep-alive
connection per client), and stops. Clients and server share this machine's cores.
Targets (issue #21): p95 <= 150 ms at 4 clients, >= 25 requests/s, 0 errors in 5,000 requests,
memory growth < 30 MB over the run.
Run: ``.venv/bin/python benchmarks/web.py [--requests 500,5000,1000] [--workers N]``. Last line: key=value
figures. Run ``python3 -c`` loops on both cores first if the figures look low: on a shared machine the
second core may be someone else's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent


def one_megapixel_jpeg() -> bytes:
    img = cv2.imread(str(REPO / "resources" / "samples" / "dress.jpg"))
    h, w = img.shape[:2]
    k = (1_000_000 / (h * w)) ** 0.5
    img = cv2.resize(img, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(port: int, workers: int | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "fashion_desktop.web.server", "--port", str(port), "--log-level", "warning"]
    if workers:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"fashion-serve exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("fashion-serve was not ready within 180 s")


def load(port: int, body: bytes, clients: int, total: int) -> dict:
    """``total`` requests from ``clients`` threads, each on its own keep-alive connection."""
    latencies: list[float] = []
    errors: list[str] = []
    left = [total]
    lock = threading.Lock()
    headers = {"Content-Type": "image/jpeg"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/classify", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200 and "label" in json.loads(data)
                reason = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                ok, reason = False, type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = (time.perf_counter() - t) * 1e3
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(reason)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "clients": clients,
        "requests": total,
        "rps": total / wall,
        "p50": statistics.median(latencies),
        "p95": q[94],
        "p99": q[98],
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", default="500,5000,1000", help="requests at 1, 4 and 16 clients")
    ap.add_argument("--workers", type=int, help="the server's --workers (default: its own)")
    args = ap.parse_args()
    counts = [int(n) for n in args.requests.split(",")]
    body = one_megapixel_jpeg()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launched = time.perf_counter()
    proc = start_server(port, args.workers)
    ready_s = time.perf_counter() - launched
    try:
        load(port, body, 2, 50)  # warm-up: the first calls set OpenCV and TensorFlow up
        rss_start = rss_mb(proc.pid)
        print(f"1 MP JPEG ({len(body) / 1024:.0f} KB); server ready {ready_s:.1f} s after launch, {rss_start:.0f} MB")
        rounds = []
        for clients, total in zip((1, 4, 16), counts):
            if total < 2:
                continue
            r = load(port, body, clients, total)
            rounds.append(r)
            print(
                f"{clients:2d} clients, {total} requests: {r['rps']:.1f} req/s, p50 {r['p50']:.1f} ms, "
                f"p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms, errors {r['errors']} {r['error_kinds'] or ''}, "
                f"server {rss_mb(proc.pid):.0f} MB"
            )
        rss_end = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    print(f"memory {rss_start:.1f} -> {rss_end:.1f} MB; SIGTERM exit status {code}")
    figures = {"ready_s": round(ready_s, 1)}
    for r in rounds:
        c = r["clients"]
        figures.update(
            {
                f"rps_c{c}": round(r["rps"], 1),
                f"p50_ms_c{c}": round(r["p50"], 1),
                f"p95_ms_c{c}": round(r["p95"], 1),
                f"errors_c{c}": r["errors"],
                f"requests_c{c}": r["requests"],
            }
        )
    figures.update(
        rss_start_mb=round(rss_start, 1),
        rss_end_mb=round(rss_end, 1),
        rss_growth_mb=round(rss_end - rss_start, 1),
        exit_status=code,
    )
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
