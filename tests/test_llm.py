"""The LLM client's parts that keep a run alive: the breaker, the adaptive limit, reading 400s and
Retry-After, and the probe that refuses an unusable endpoint before any work."""

from __future__ import annotations

import asyncio
import time

import httpx2 as httpx
import openai
import pytest

from pipeline.llm import AdaptiveLimit, CircuitBreaker, EndpointUnavailable, context_error, probe, retry_after
from tests.fake_openai import FakeOpenAI

REQ = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")


def test_the_breaker_opens_after_failures_in_a_row_and_honours_retry_after():
    b = CircuitBreaker(threshold=3, first_pause_s=0.2, max_pause_s=5)
    b.failure()
    b.failure()
    assert b.open_until == 0  # two failures: still closed
    b.failure()
    assert 0.1 < b.open_until - time.monotonic() <= 0.2
    b.failure()
    assert 0.3 < b.open_until - time.monotonic() <= 0.4  # each further failure doubles the pause
    b.success()
    b.failure(wait_s=2.0)  # the server said when to come back
    assert 1.9 < b.open_until - time.monotonic() <= 2.0

    async def admitted_after() -> float:
        t0 = time.monotonic()
        await b.admit()
        return time.monotonic() - t0

    assert asyncio.run(admitted_after()) >= 1.8


def test_the_limit_halves_on_overload_and_grows_back_additively():
    async def go():
        limit = AdaptiveLimit(64, cooldown_s=0.0)
        limit.overload()
        limit.overload()
        assert int(limit.limit) == 16 and limit.lowest == 16
        for _ in range(16):
            limit.success()
        assert 16.9 < limit.limit < 17.1  # +1 per window of `limit` successes
        in_flight = []

        async def one():
            async with limit:
                in_flight.append(limit.in_flight)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one() for _ in range(100)))
        assert max(in_flight) <= 17
    asyncio.run(go())


def test_context_errors_and_retry_after_are_read():
    msg = ("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (2952 in the "
           "messages, 2048 in the completion).")
    e = openai.BadRequestError(msg, response=httpx.Response(400, request=REQ), body=None)
    assert context_error(e) == (True, 4096, 2952)
    other = openai.BadRequestError("unknown field", response=httpx.Response(400, request=REQ), body=None)
    assert context_error(other)[0] is False
    rate = openai.RateLimitError("slow down", response=httpx.Response(429, headers={"Retry-After": "7"}, request=REQ),
                                 body=None)
    assert retry_after(rate) == 7.0
    assert retry_after(openai.APITimeoutError(request=REQ)) is None


def test_the_probe_reports_the_context_and_refuses_what_cannot_work():
    server = FakeOpenAI(context_tokens=8192)
    url = server.start()
    try:
        assert probe(url, "sk", "fake-model").context_tokens == 8192
        with pytest.raises(EndpointUnavailable, match="does not serve the model 'other'.*fake-model"):
            probe(url, "sk", "other")
        assert server.requests == 1  # the one structured-output request of the good probe
    finally:
        server.stop()
    with pytest.raises(EndpointUnavailable, match="cannot reach"):
        probe("http://127.0.0.1:9/v1", "sk", "fake-model", timeout_s=2)
    broken = FakeOpenAI(faults={"404": 1.0})
    url = broken.start()
    try:
        with pytest.raises(EndpointUnavailable, match="404"):
            probe(url, "sk", "fake-model")
    finally:
        broken.stop()
