"""The LLM text backend against the local fake server (no Ray, no network beyond 127.0.0.1): every way a
real model or endpoint misbehaves, and what the run makes of it."""

from __future__ import annotations

import asyncio
import time

import openai
import pytest

from pipeline.config import load_config
from pipeline.generate import agenerate_persona
from pipeline.llm import LLM, EndpointUnavailable, OfflineCacheMiss, transient
from pipeline.personas.sampler import sample_personas
from pipeline.verbalize.check import check_session
from pipeline.verbalize.openai_backend import LLMBackend, lexicon_vocabulary, parse_turns
from tests.fake_openai import Behaviour, FakeOpenAI

CFG = load_config(overrides={"personas": 2, "bench_personas": 0, "months": 1, "seed": 7, "text_backend": "openai",
                             "llm_model": "fake-model"})


@pytest.fixture(scope="module")
def personas(lex):
    return sample_personas(CFG, lex)


def _run(server: FakeOpenAI, tmp_path, personas, n: int = 1, repairs: int = 2, max_tokens: int | None = None,
         context_tokens: int | None = None, cfg=CFG, **llm_kw):
    """Generate `n` personas through the backend against `server`; the parts and the client."""
    url = server.start()
    try:
        llm = LLM(model="fake-model", base_url=url, api_key="sk-test", cache_dir=tmp_path / "cache", timeout_s=1.0,
                  context_tokens=context_tokens, **llm_kw)
        backend = LLMBackend(llm, cfg.seed, repairs, lexicon_vocabulary(cfg.lexicon_dir), max_tokens)

        async def go():
            try:
                return await asyncio.gather(*(agenerate_persona(p, cfg, backend) for p in personas[:n]))
            finally:
                await llm.aclose()

        return asyncio.run(go()), llm
    finally:
        server.stop()


def _sources(parts) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        for s in part.sessions:
            for t in s.turns:
                out[t.source] = out.get(t.source, 0) + 1
    return out


def _assert_exact(part):
    """What ships passes the check against the world, whoever wrote it."""
    events = {e.id: e for e in part.events}
    facts = {f.id: f for e in part.events for f in e.facts}
    known: set[str] = set()
    for s in part.sessions:
        assert check_session(s, events, facts, known) == []
        known |= set(s.planned_fact_ids)


def test_sessions_are_rewritten_and_checked(tmp_path, personas):
    server = FakeOpenAI()
    (part,), llm = _run(server, tmp_path, personas)
    _assert_exact(part)
    assert _sources([part]) == {"llm": sum(len(s.turns) for s in part.sessions)}
    assert llm.stats.requests == server.requests == len(part.sessions)  # one request per session, nothing repaired
    assert part.stats["llm_planned_requests"] == len(part.sessions) and part.stats["sessions_first_try"] == len(part.sessions)


def test_correct_paraphrases_pass_the_first_time(tmp_path, personas):
    """Dates in other words, digits for number words, British spellings, fences, preambles, extra keys and
    indices as strings are all right: nothing is repaired, nothing falls back."""
    server = FakeOpenAI(behaviour=Behaviour(paraphrase=1.0, fence=0.5, preamble=0.5, extra_key=0.5, string_index=0.5))
    parts, llm = _run(server, tmp_path, personas, n=2)
    for part in parts:
        _assert_exact(part)
    assert set(_sources(parts)) == {"llm"}
    texts = " ".join(t.text for p in parts for s in p.sessions for t in s.turns)
    assert " back" in texts and "Honestly" in texts  # the paraphrases did happen
    assert server.requests == sum(len(p.sessions) for p in parts)


def test_cache_then_offline_replay(tmp_path, personas):
    (first,), _ = _run(FakeOpenAI(behaviour="strong"), tmp_path, personas)
    again = FakeOpenAI(behaviour="strong")
    (second,), llm = _run(again, tmp_path, personas)
    assert again.requests == 0 and llm.stats.cache_hits > 0
    (third,), _ = _run(FakeOpenAI(), tmp_path, personas, offline=True)  # the server is never asked
    assert [s.model_dump() for s in first.sessions] == [s.model_dump() for s in second.sessions] \
        == [s.model_dump() for s in third.sessions]
    with pytest.raises(OfflineCacheMiss):
        _run(FakeOpenAI(), tmp_path / "empty", personas, offline=True)


def test_failing_turns_are_repaired_alone_then_fall_back_to_the_draft(tmp_path, personas):
    server = FakeOpenAI(behaviour=Behaviour(drop=0.15, invent=0.1, vague=0.1))
    parts, _ = _run(server, tmp_path, personas, n=2)
    sources = _sources(parts)
    assert sources.get("llm-repaired", 0) > 0, sources
    for part in parts:
        _assert_exact(part)
        assert not part.quarantine
    texts = " ".join(t.text for p in parts for s in p.sessions for t in s.turns)
    assert "Bartholomew" not in texts and "Zanzibar" not in texts and "hung out" not in texts
    # a repair asks again with a new seed, so the cache can never answer it with the rejected reply
    assert len(set(server.seeds)) > len({s.id for p in parts for s in p.sessions})


def test_a_model_that_never_gets_it_right_ships_drafts_and_quarantines_past_the_limit(tmp_path, personas):
    server = FakeOpenAI(behaviour=Behaviour(invent=1.0))
    (part,), _ = _run(server, tmp_path, personas, repairs=1)
    assert part.quarantine and "fell back to the scripted draft" in part.quarantine[0].reason
    cfg = CFG.model_copy(update={"llm_max_fallback_share": 1.0})
    (part,), _ = _run(FakeOpenAI(behaviour=Behaviour(invent=1.0)), tmp_path / "b", personas, repairs=1, cfg=cfg)
    assert not part.quarantine and set(_sources([part])) == {"scripted-fallback"}
    _assert_exact(part)


def test_truncated_bodies_and_transport_faults_are_retried(tmp_path, personas):
    server = FakeOpenAI(faults={"corrupt": 0.2, "429": 0.1, "503": 0.1, "500": 0.1, "timeout": 0.05}, hang_s=2,
                        retry_after_s=0.05, behaviour="strong", seed=3)
    (part,), llm = _run(server, tmp_path, personas, retry_budget_s=60)
    _assert_exact(part)
    assert server.outcomes["corrupt"] > 0 and llm.stats.retries >= server.requests - llm.stats.requests > 0


def test_a_length_stop_is_asked_again_with_more_room(tmp_path, personas):
    server = FakeOpenAI(behaviour=Behaviour(verbose=1.0))
    (part,), llm = _run(server, tmp_path, personas)
    assert llm.stats.length_retries > 0
    assert set(_sources([part])) == {"llm"}


def test_a_context_length_400_shrinks_the_request(tmp_path, personas):
    # the context fits the prompts but not prompt + budget: the budget shrinks to what fits
    server = FakeOpenAI(context_tokens=4400)
    (part,), llm = _run(server, tmp_path, personas, max_tokens=4000)
    assert server.context_rejections > 0 and set(_sources([part])) == {"llm"}
    assert llm.context_tokens == 4400  # learnt from the 400
    # prompts over the context (a context the longest quarter of this persona's session prompts exceed): those
    # sessions are asked half by half, and a turn that fits nowhere stays its draft
    from pipeline.generate import build_world, generate_persona
    from pipeline.verbalize.openai_backend import _prompt_tokens, session_messages

    scripted = CFG.model_copy(update={"text_backend": "scripted"})
    ctx, drafts = build_world(personas[0], scripted), generate_persona(personas[0], scripted).sessions
    prompts = sorted(_prompt_tokens(session_messages(ctx.world, d, ctx.index.event, ctx.index.fact)) for d in drafts)
    server = FakeOpenAI(context_tokens=prompts[3 * len(prompts) // 4])
    (part,), _ = _run(server, tmp_path / "b", personas)
    _assert_exact(part)
    assert part.stats.get("llm_context_splits", 0) > 0 and not part.quarantine


def test_an_outage_is_waited_out_behind_the_circuit_breaker(tmp_path, personas):
    server = FakeOpenAI(retry_after_s=0.5, behaviour="strong")
    server.outage(4.0)
    t0 = time.monotonic()
    parts, llm = _run(server, tmp_path, personas, n=2, retry_budget_s=60)
    assert time.monotonic() - t0 >= 4.0
    assert all(not p.quarantine and p.sessions for p in parts)
    assert server.outcomes["outage"] > 0
    # the breaker holds requests while the endpoint is down instead of spending each one's retries
    assert server.outcomes["outage"] < 40 and llm.breaker.pauses > 0


def test_an_endpoint_down_past_the_budget_raises_for_a_rerun(tmp_path, personas):
    server = FakeOpenAI(faults={"503": 1.0}, retry_after_s=0.2)
    with pytest.raises(EndpointUnavailable, match="still failed"):
        _run(server, tmp_path, personas, retry_budget_s=2)
    with pytest.raises(EndpointUnavailable, match="refused"):  # e.g. a key revoked mid-run: no persona is to blame
        _run(FakeOpenAI(faults={"404": 1.0}), tmp_path / "b", personas)


def test_lenient_reply_parsing():
    assert parse_turns('```json\n{"turns": [{"index": 0, "text": "a"}]}\n```', [0]) == ({0: "a"}, [])
    assert parse_turns('Sure! {"turns": [{"index": "1", "text": "b", "role": "user"}], "x": 1}', [1]) == ({1: "b"}, [])
    assert parse_turns('[{"index": 0, "text": "a"}, {"index": 1, "text": "b"}]', [0, 1])[0] == {0: "a", 1: "b"}
    texts, problems = parse_turns('{"turns": [{"index": 0, "text": "kept"}, {"index": 1, "text": "cut o', [0, 1])
    assert texts == {0: "kept"} and any("no usable text for turns [1]" in p for p in problems)
    assert parse_turns("I cannot help with that.", [0]) == ({}, ["the reply is not JSON"])
    assert parse_turns('{"turns": [{"index": 0, "text": ""}, {"index": 9, "text": "x"}]}', [0])[0] == {}


def test_transient_classification():
    import httpx2 as httpx

    req = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    assert transient(openai.RateLimitError("x", response=httpx.Response(429, request=req), body=None))
    assert transient(openai.InternalServerError("x", response=httpx.Response(503, request=req), body=None))
    assert not transient(openai.BadRequestError("x", response=httpx.Response(400, request=req), body=None))
    assert transient(openai.APITimeoutError(request=req))


def test_a_hung_server_times_out_as_a_retryable_error(tmp_path, personas):
    """Through the real (aiohttp) transport: a reply that never comes is an APITimeoutError, retried."""
    with pytest.raises(EndpointUnavailable, match="APITimeoutError"):
        _run(FakeOpenAI(faults={"timeout": 1.0}, hang_s=2), tmp_path, personas, retry_budget_s=1.5)


def test_the_prompt_asks_to_keep_the_sentences_that_show_the_users_personality(small_parts):
    from pipeline.verbalize.openai_backend import _draft_entries
    from pipeline.verbalize.voice import trait_counts

    found = 0
    for part in small_parts:
        events = {e.id: e for e in part.events}
        facts = {f.id: f for e in part.events for f in e.facts}
        for s in part.sessions:
            for entry, t in zip(_draft_entries(s, events, facts, [t.index for t in s.turns]), s.turns):
                voice = entry.get("voice", [])
                rest = t.text
                for sentence in voice:  # whole sentences of the turn, and together all that shows the personality
                    assert sentence in rest and sentence[:1].isupper() and sentence[-1] in ".!?)"
                    rest = rest.replace(sentence, "", 1)
                assert t.role == "user" or not voice
                assert not any(sum(c) for c in trait_counts(rest).values()), rest
                found += bool(voice)
    assert found > 10
