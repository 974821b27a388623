"""Benchmark: LLM client throughput against the local fake server with a fixed added latency.

The server runs in its own process (127.0.0.1) and answers every request after `--latency` seconds;
after one warm-up wave, the client sends N distinct requests at concurrency 1, 16, 64, 256 through `pipeline.llm.LLM`
(AsyncOpenAI + semaphore + retries + cache writes) and prints achieved requests/s against the ideal
concurrency / latency, and the client's CPU time per request.

    python bench/llm_client.py [--latency 0.2] [--requests 512]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.llm import LLM  # noqa: E402
from pipeline.verbalize.openai_backend import SCHEMA  # noqa: E402

DRAFT = 'Session 0. Draft messages:\n```json\n[{"index": 0, "role": "user", "time": "x", "draft": "Hi there.", ' \
        '"keep": []}]\n```'


def _serve(latency: float, conn) -> None:
    from tests.fake_openai import FakeOpenAI

    server = FakeOpenAI(latency_s=latency)
    conn.send(server.start())
    while True:
        time.sleep(3600)


async def _send(llm: LLM, n: int, tag: str) -> None:
    msgs = [[{"role": "system", "content": "bench"}, {"role": "user", "content": f"{tag} {i}\n{DRAFT}"}] for i in range(n)]
    await asyncio.gather(*(llm.complete(m, SCHEMA, "session_turns") for m in msgs))


async def _load(llm: LLM, n: int, tag: str) -> tuple[float, float]:
    """Wall and CPU seconds for `n` requests, after one untimed wave that opens the connections
    (a generation task pays that once, then keeps its connections for hours)."""
    await _send(llm, llm.concurrency, f"warm-{tag}")
    cpu0, t0 = time.process_time(), time.perf_counter()
    await _send(llm, n, tag)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await llm.aclose()
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--requests", type=int, default=2048)
    args = ap.parse_args()
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_serve, args=(args.latency, child), daemon=True)
    proc.start()
    url = parent.recv()
    print(f"fake server at {url}, added latency {args.latency * 1000:.0f} ms")
    print(f"{'concurrency':>11} {'requests':>9} {'req/s':>8} {'ideal':>8} {'of ideal':>9} {'client CPU ms/req':>18}")
    with tempfile.TemporaryDirectory() as cache:
        for c in (1, 16, 64, 256):
            n = min(args.requests, max(32, c * 32)) if c > 1 else 32
            llm = LLM(model="fake", base_url=url, api_key="sk-bench", cache_dir=Path(cache), concurrency=c)
            wall, cpu = asyncio.run(_load(llm, n, f"c{c}"))
            ideal = c / args.latency
            print(f"{c:>11} {n:>9} {n / wall:>8.1f} {ideal:>8.1f} {n / wall / ideal:>8.0%} {cpu / n * 1000:>18.2f}")
    proc.terminate()


if __name__ == "__main__":
    main()
