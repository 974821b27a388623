"""Benchmark: the LLM text path against simulated models, per profile — how much of the text is the
model's, what is lost, what it costs.

The fake server (tests/fake_openai.py) runs in its own process and imitates a strong model and a typical
7B (paraphrases, dropped and invented details, fenced or cut-off JSON, verbose replies), optionally behind a
flaky endpoint (30% transport errors: 429/503 with Retry-After, 500, hangs; 10% cut-off 2xx bodies). The
personas go through the real code (`agenerate_persona` with the LLM backend, one event loop, no Ray) and
the table reports, per profile: sessions accepted at the first try / after turn repairs / with some turns
falling back to the draft, the share of turns in LLM text, personas lost, requests and tokens per shipped
session against one request, planned against actual tokens, and throughput.

    python bench/llm_profiles.py [--personas 8] [--months 2] [--latency 0.05]
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

from pipeline.config import load_config  # noqa: E402
from pipeline.generate import agenerate_persona  # noqa: E402
from pipeline.llm import LLM, EndpointUnavailable  # noqa: E402
from pipeline.personas.lexicon import load_lexicon  # noqa: E402
from pipeline.personas.sampler import sample_personas  # noqa: E402
from pipeline.verbalize.openai_backend import LLMBackend, lexicon_vocabulary  # noqa: E402

FLAKY = {"429": 0.08, "503": 0.07, "500": 0.1, "timeout": 0.05, "corrupt": 0.1}
RUNS = [("strong", {}), ("7b", {}), ("7b", FLAKY)]


def _serve(profile: str, faults: dict, latency: float, conn) -> None:
    from tests.fake_openai import FakeOpenAI

    server = FakeOpenAI(behaviour=profile, faults=faults, latency_s=latency, hang_s=3, retry_after_s=0.2, seed=1)
    conn.send(server.start())
    while True:
        time.sleep(3600)


async def _generate(cfg, personas, url: str, cache: Path) -> tuple[list, list[str], float]:
    llm = LLM(model="fake-model", base_url=url, api_key="sk-bench", cache_dir=cache, concurrency=64, timeout_s=2,
              retry_budget_s=120)
    backend = LLMBackend(llm, cfg.seed, cfg.llm_repairs, lexicon_vocabulary(cfg.lexicon_dir))

    async def one(p):
        try:
            return await agenerate_persona(p, cfg, backend)
        except EndpointUnavailable as e:
            return str(e)

    t0 = time.perf_counter()
    try:
        out = await asyncio.gather(*(one(p) for p in personas))
    finally:
        await llm.aclose()
    return [o for o in out if not isinstance(o, str)], [o for o in out if isinstance(o, str)], time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--personas", type=int, default=8)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--latency", type=float, default=0.05, help="seconds the fake model takes per request")
    args = ap.parse_args()
    cfg = load_config(overrides={"personas": args.personas, "bench_personas": 0, "months": args.months, "seed": 0,
                                 "text_backend": "openai", "llm_model": "fake-model"})
    personas = sample_personas(cfg, load_lexicon(cfg.lexicon_dir))
    print(f"{len(personas)} personas x {args.months} months, fake model latency {args.latency * 1000:.0f} ms, "
          f"{cfg.llm_repairs} repair rounds, quarantine above {cfg.llm_max_fallback_share:.0%} fallback")
    head = ("profile", "endpoint", "sessions", "first try", "repaired", "fallback", "LLM turns", "lost", "req/session",
            "tokens/session", "planned/actual", "sessions/s")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for profile, faults in RUNS:
        parent, child = mp.Pipe()
        proc = mp.get_context("spawn").Process(target=_serve, args=(profile, faults, args.latency, child), daemon=True)
        proc.start()
        url = parent.recv()
        with tempfile.TemporaryDirectory() as cache:
            parts, pending, wall = asyncio.run(_generate(cfg, personas, url, Path(cache)))
        proc.terminate()
        shipped = [p for p in parts if not p.quarantine]
        stats: dict[str, float] = {}
        for p in parts:
            for k, v in p.stats.items():
                stats[k] = stats.get(k, 0) + v
        sessions = stats.get("llm_planned_requests", 0)
        turns = sum(v for k, v in stats.items() if k.startswith("text_"))
        llm_turns = (stats.get("text_llm", 0) + stats.get("text_llm_repaired", 0)) / max(1, turns)
        planned = stats.get("llm_planned_prompt_tokens", 0) + stats.get("llm_planned_completion_tokens", 0)
        actual = stats.get("llm_prompt_tokens", 0) + stats.get("llm_completion_tokens", 0)
        lost = len(parts) - len(shipped) + len(pending)
        share = {k: f"{stats.get(f'sessions_{k}', 0) / max(1, sessions):.1%}" for k in ("first_try", "repaired", "fallback")}
        row = (profile, "flaky (30% errors, 10% cut bodies)" if faults else "healthy", f"{int(sessions)}",
               share["first_try"], share["repaired"], share["fallback"], f"{llm_turns:.2%}", f"{lost} of {len(personas)}",
               f"{stats.get('llm_requests', 0) / max(1, sessions):.2f}", f"{actual / max(1, planned):.2f}x one request",
               f"{planned / max(1, actual):.2f}", f"{sessions / wall:.1f}")
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
