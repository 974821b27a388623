"""The evaluator against the local OpenAI-compatible test server."""

from __future__ import annotations

import json

import pytest

from pipeline.llm import LLM
from pipeline.mme.cli import main
from pipeline.mme.context import question_text
from pipeline.mme.evaluate import build_messages, evaluate, load_benchmark, summarize
from tests.fake_openai import FakeOpenAI


def _run(server: FakeOpenAI, questions, sessions, images, tmp_path, **kw):
    url = server.start()
    try:
        llm = LLM(model="fake", base_url=url, api_key="sk-test", cache_dir=tmp_path / "cache", concurrency=16)
        return evaluate(questions, sessions, images, llm, progress=False, **kw)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bench(bench_run):
    return load_benchmark(bench_run)


def test_oracle_scores_100_and_guessing_policies_score_chance(bench, tmp_path):
    questions, sessions, images = bench
    assert len(questions) >= 150
    key = {question_text(q["time"], q["query"], [(c["key"], c["text"]) for c in q["choices"]]): q["answer"]
           for q in questions}
    oracle = FakeOpenAI(policy="oracle", answer_key=key)
    results = _run(oracle, questions, sessions, images, tmp_path / "oracle")
    assert summarize(results)["all_items"]["accuracy"] == 1.0
    assert oracle.seen_images > 0, "full mode shows the photos"
    chance = sum(1 / len(q["choices"]) for q in questions) / len(questions)
    for policy in ("random", "longest"):  # a guess, and a no-context model that reads only the options
        acc = summarize(_run(FakeOpenAI(policy=policy, seed=5), questions, sessions, images,
                             tmp_path / policy))["all_items"]["accuracy"]
        assert abs(acc - chance) < 0.1, (policy, acc, chance)


def test_rag_keeps_only_the_top_sessions(bench):
    questions, sessions, images = bench
    q = max(questions, key=lambda q: len(q["history_sessions"]))
    full = build_messages(q, sessions, images, "full")
    rag = build_messages(q, sessions, images, "rag", top_k=2)
    turns_of = lambda sids: sum(len(sessions[s]["turns"]) for s in sids)  # noqa: E731
    assert len(full) == 2 + turns_of(q["history_sessions"])
    assert 2 < len(rag) < len(full)
    no_images = build_messages(q, sessions, images, "full", with_images=False)
    assert all(isinstance(m["content"], str) for m in no_images)


def test_cli_prints_the_table_writes_results_and_reuses_its_cache(bench_run, tmp_path, capsys):
    server = FakeOpenAI(policy="random")
    url = server.start()
    try:
        args = ["eval", "--data", str(bench_run), "--base-url", url, "--model", "org/fake-7b", "--setting", "32k",
                "--limit", "40", "--out", str(tmp_path / "eval"), "--api-key", "sk-never-printed", "--no-progress"]
        assert main(args) == 0
        first = server.requests
        assert main(args) == 0
        assert server.requests == first == 40, "the second run is served from the cache"
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert "Overall" in out and "Alignment" in out and "Memory" in out and "sk-never-printed" not in out
    rows = [json.loads(x) for x in (tmp_path / "eval" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 40 and all(r["setting"] == "32k" for r in rows)
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert summary["all_items"]["n"] == 40 and "sk-never" not in json.dumps(summary)
    assert main(["eval", "--data", str(tmp_path / "nothing"), "--base-url", url, "--model", "m"]) == 2
    assert "not a finished run" in capsys.readouterr().err
