"""The LLM text backend against the local fake server (no Ray, no network beyond 127.0.0.1)."""

from __future__ import annotations

import asyncio

import openai
import pytest

from pipeline.llm import LLM, OfflineCacheMiss, transient
from pipeline.personas.sampler import sample_personas
from pipeline.verbalize.check import check_session
from pipeline.verbalize.openai_backend import LLMVerbalizer, Quarantined
from pipeline.world.plan import plan_sessions
from pipeline.world.simulate import simulate_world
from tests.fake_openai import FakeOpenAI


@pytest.fixture()
def world(small_cfg, lex):
    w = simulate_world(sample_personas(small_cfg, lex)[0], small_cfg, lex)
    events, plans = plan_sessions(w, small_cfg)
    return w, {e.id: e for e in events}, {f.id: f for e in events for f in e.facts}, plans


def _run(server: FakeOpenAI, tmp_path, world, sessions: int = 3, repairs: int = 2, **llm_kw):
    w, events, facts, plans = world
    url = server.start()
    try:
        llm = LLM(model="fake", base_url=url, api_key="sk-test", cache_dir=tmp_path / "cache", timeout_s=1.0, **llm_kw)
        verbalizer = LLMVerbalizer(llm, 0, repairs)

        async def go():
            out, known = [], set()
            for plan in plans[:sessions]:
                s = await verbalizer.session(w, events, facts, plan, known)
                known |= set(s.planned_fact_ids)
                out.append(s)
            await llm.aclose()
            return out

        return asyncio.run(go()), llm
    finally:
        server.stop()


def test_sessions_are_rewritten_and_still_checked(tmp_path, world):
    server = FakeOpenAI()
    sessions, llm = _run(server, tmp_path, world)
    _, events, facts, _ = world
    known: set[str] = set()
    for s in sessions:
        assert check_session(s, events, facts, known) == []
        known |= set(s.planned_fact_ids)
    assert any(t.text.startswith("Honestly") for s in sessions for t in s.turns)
    assert llm.stats.requests == server.requests == 3 and llm.stats.prompt_tokens > 0


def test_cache_then_offline_replay(tmp_path, world):
    _run(FakeOpenAI(), tmp_path, world)
    again = FakeOpenAI()
    _, llm = _run(again, tmp_path, world)
    assert again.requests == 0 and llm.stats.cache_hits == 3
    sessions, llm = _run(FakeOpenAI(), tmp_path, world, offline=True)  # the server is never asked
    assert len(sessions) == 3
    with pytest.raises(OfflineCacheMiss):
        _run(FakeOpenAI(), tmp_path / "empty", world, offline=True)


def test_transient_errors_are_retried_and_bad_replies_repaired(tmp_path, world):
    server = FakeOpenAI(faults={"429": 0.2, "500": 0.2, "timeout": 0.1, "malformed": 0.1, "invalid": 0.1, "omit": 0.1},
                        hang_s=3, seed=3)
    sessions, llm = _run(server, tmp_path, world, sessions=4, repairs=6)
    assert len(sessions) == 4
    assert llm.stats.retries > 0 and server.requests > 4


def test_a_session_that_never_comes_right_is_quarantined(tmp_path, world):
    with pytest.raises(Quarantined) as e:
        _run(FakeOpenAI(faults={"omit": 1.0}), tmp_path, world, sessions=1, repairs=1)
    assert "not stated" in e.value.reason and e.value.attempts == 2


def test_an_endpoint_that_keeps_failing_quarantines_but_a_client_error_fails(tmp_path, world):
    with pytest.raises(Quarantined) as e:
        _run(FakeOpenAI(faults={"500": 1.0}), tmp_path, world, sessions=1, attempts=2)
    assert "after 2 tries" in e.value.reason and "InternalServerError" in e.value.reason
    with pytest.raises(openai.NotFoundError):  # e.g. a wrong model name: every persona would fail the same way
        _run(FakeOpenAI(faults={"404": 1.0}), tmp_path / "b", world, sessions=1)


def test_transient_classification():
    import httpx2 as httpx

    req = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    assert transient(openai.RateLimitError("x", response=httpx.Response(429, request=req), body=None))
    assert transient(openai.InternalServerError("x", response=httpx.Response(503, request=req), body=None))
    assert not transient(openai.BadRequestError("x", response=httpx.Response(400, request=req), body=None))
    assert transient(openai.APITimeoutError(request=req))


def test_a_hung_server_times_out_as_a_retryable_error(tmp_path, world):
    """Through the real (aiohttp) transport: a reply that never comes is an APITimeoutError, retried."""
    with pytest.raises(Quarantined) as e:
        _run(FakeOpenAI(faults={"timeout": 1.0}, hang_s=2), tmp_path, world, sessions=1, attempts=2)
    assert "after 2 tries (APITimeoutError)" in e.value.reason
