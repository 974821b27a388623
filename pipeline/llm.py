"""An OpenAI-compatible chat client for the generation stages: async under an adaptive concurrency
limit, retried within a time budget, structured (JSON schema) output, and a disk cache.

Real endpoints misbehave in ways a run must outlive: 429s and 5xx (with Retry-After), outages of
minutes, a 200 whose body is cut off, a reply stopped at max_tokens, a prompt over the model's
context. Transient faults are retried until `retry_budget_s` is spent, honouring Retry-After, behind
a circuit breaker that holds every request of the process while the endpoint is down; concurrency
backs off multiplicatively on overload and grows back additively. What cannot succeed surfaces as
`EndpointUnavailable` (the endpoint, not the persona, failed: nothing is written and a rerun retries)
or `ContextTooLong` (the caller shrinks the request or falls back).

Every reply is cached by a hash of (model, messages, sampling parameters incl. the seed, schema), so
a rerun or a resumed run re-spends no tokens and `offline=True` replays a run from the cache alone.
The API key is read from the environment (OPENAI_API_KEY) or given explicitly; it is never logged or stored.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_before_delay, wait_exponential_jitter

from pipeline.atomic import write_text


class OfflineCacheMiss(RuntimeError):
    """--offline-replay met a request that is not in the cache."""


class EndpointUnavailable(RuntimeError):
    """The endpoint kept failing for the whole retry budget, or refused the client (key, model, URL)."""


class ContextTooLong(RuntimeError):
    """The prompt alone does not fit the model's context."""


class MalformedReply(RuntimeError):
    """A 2xx whose body is not a chat completion (cut off, not JSON, no choices): retried like a 5xx."""


@dataclass
class LLMStats:
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    length_retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    def as_dict(self, prefix: str = "llm_") -> dict[str, float]:
        return {f"{prefix}{k}": round(float(v), 3) for k, v in self.__dict__.items()}


def transient(e: BaseException) -> bool:
    """429, 5xx, timeouts, connection errors and broken 2xx bodies are worth another try; 4xx client errors are not."""
    if isinstance(e, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, MalformedReply)):
        return True
    return isinstance(e, openai.APIStatusError) and e.status_code >= 500


_CONTEXT = re.compile(r"maximum context length is (\d+)|context length of (\d+)|context_length_exceeded|too many tokens|"
                      r"prompt is too long", re.IGNORECASE)


def context_error(e: BaseException) -> tuple[bool, int | None, int | None]:
    """Whether `e` is a 400 for an over-long request, with the context and prompt sizes when the message gives them
    (vLLM: 'maximum context length is 4096 tokens. However, you requested 5000 tokens (2952 in the messages, ...')."""
    if not isinstance(e, openai.BadRequestError):
        return False, None, None
    msg = str(e)
    m = _CONTEXT.search(msg)
    if not m:
        return False, None, None
    ctx = next((int(g) for g in m.groups() if g), None)
    prompt = re.search(r"(\d+) (?:tokens )?in the messages", msg) or re.search(r"prompt (?:contains|has) (\d+)", msg)
    return True, ctx, int(prompt.group(1)) if prompt else None


def retry_after(e: BaseException) -> float | None:
    """Seconds the server asked to wait (Retry-After / retry-after-ms), if it said."""
    response = getattr(e, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                return None
    return None


class CircuitBreaker:
    """Holds every request of the process while the endpoint is down, so an outage costs waiting, not
    retries: after `threshold` failures in a row (or a Retry-After), requests wait until the pause ends,
    and each further failure doubles the pause (up to `max_pause_s`). A success closes it."""

    def __init__(self, threshold: int = 3, first_pause_s: float = 0.5, max_pause_s: float = 30.0):
        self.threshold, self.first_pause_s, self.max_pause_s = threshold, first_pause_s, max_pause_s
        self.failures = 0
        self.open_until = 0.0
        self.pauses = 0

    async def admit(self) -> None:
        while (wait := self.open_until - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    def failure(self, wait_s: float | None = None) -> None:
        self.failures += 1
        pause = 0.0
        if self.failures >= self.threshold:
            pause = min(self.max_pause_s, self.first_pause_s * 2 ** (self.failures - self.threshold))
        if wait_s is not None:
            pause = max(pause, min(wait_s, self.max_pause_s * 4))
        if pause and time.monotonic() + pause > self.open_until:
            self.open_until = time.monotonic() + pause
            self.pauses += 1

    def success(self) -> None:
        self.failures = 0


class AdaptiveLimit:
    """Requests in flight adapt to the server (AIMD): +1/limit per success, halved on overload (429, 5xx,
    timeouts) at most once per `cooldown_s`, always within [1, maximum]. Waiters are woken one at a time
    (a semaphore's cost, not a condition's wake-everyone)."""

    def __init__(self, maximum: int, cooldown_s: float = 1.0):
        self.maximum, self.cooldown_s = maximum, cooldown_s
        self.limit = float(maximum)
        self.in_flight = 0
        self.lowest = maximum
        self._last_cut = 0.0
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    async def __aenter__(self) -> None:
        if not self._waiters and self.in_flight < int(self.limit):
            self.in_flight += 1
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut  # the releaser counted this request in
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.in_flight -= 1
                self._wake()
            else:
                self._waiters.remove(fut)
            raise

    async def __aexit__(self, *exc) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < int(self.limit):
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_flight += 1
                fut.set_result(None)

    def success(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
        self._wake()

    def overload(self) -> None:
        now = time.monotonic()
        if now - self._last_cut >= self.cooldown_s:
            self.limit = max(1.0, self.limit / 2)
            self.lowest = min(self.lowest, int(self.limit))
            self._last_cut = now


@dataclass
class Completion:
    content: str
    finish_reason: str | None


@dataclass
class LLM:
    model: str
    base_url: str | None
    api_key: str | None
    cache_dir: Path
    concurrency: int = 64
    temperature: float = 0.8
    max_tokens: int = 2048
    context_tokens: int | None = None
    timeout_s: float = 60.0
    retry_budget_s: float = 600.0
    offline: bool = False
    stats: LLMStats = field(default_factory=LLMStats)

    def __post_init__(self) -> None:
        self._client = None
        self._limit: AdaptiveLimit | None = None
        self.breaker = CircuitBreaker()

    async def aclose(self) -> None:
        """Close the HTTP client on the loop that opened it."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    def key(self, messages: list[dict], schema: dict | None, seed: int | None = None, max_tokens: int | None = None) -> str:
        params = {"temperature": self.temperature, "max_tokens": max_tokens or self.max_tokens}
        if seed is not None:
            params["seed"] = seed
        blob = json.dumps({"model": self.model, "messages": messages, "schema": schema, "params": params}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def room(self, prompt_tokens: int) -> int:
        """Completion tokens that fit beside a prompt of `prompt_tokens` in the model's context (when it is known)."""
        if self.context_tokens is None:
            return 1 << 30
        return self.context_tokens - prompt_tokens - 16

    def _open(self) -> None:
        if self._client is None:
            # aiohttp as the transport: the SDK's choice for high concurrency, cheaper per request than httpx.
            self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key or "EMPTY",
                                              timeout=self.timeout_s, max_retries=0,
                                              http_client=openai.DefaultAioHttpClient(limits=httpx.Limits(
                                                  max_connections=self.concurrency, max_keepalive_connections=self.concurrency)))
            self._limit = AdaptiveLimit(self.concurrency)

    async def complete(self, messages: list[dict], schema: dict | None = None, name: str = "reply",
                       stats: LLMStats | None = None, seed: int | None = None, max_tokens: int | None = None) -> Completion:
        """The reply, from the cache when possible. With a `schema`, the request asks for structured
        output and the content should be JSON (not yet parsed or validated). A reply stopped at the
        token limit is asked again with twice the room, up to the model's context; one that still
        stops there comes back with finish_reason 'length'. Counters go to `stats` too."""
        counters = [self.stats] + ([stats] if stats is not None else [])

        def count(name: str, value: float = 1) -> None:
            for c in counters:
                setattr(c, name, getattr(c, name) + value)

        budget = max_tokens or self.max_tokens
        key = self.key(messages, schema, seed, budget)
        path = self.cache_dir / key[:2] / f"{key}.json"
        if path.exists():
            try:
                cached = json.loads(path.read_text())
                count("cache_hits")
                return Completion(cached["content"], cached.get("finish_reason", "stop"))
            except (ValueError, KeyError):
                path.unlink(missing_ok=True)  # a damaged entry is asked again, not trusted
        if self.offline:
            raise OfflineCacheMiss(f"request {key[:12]} is not in the cache {self.cache_dir}; run once online first")
        self._open()
        # The request body goes out through the SDK's plain `post` (its documented route for custom
        # requests): `chat.completions.create` walks every parameter and the schema against its typed
        # signature first, the largest single cost in a profile of the client at concurrency 64.
        body = {"model": self.model, "messages": messages, "temperature": self.temperature, "max_tokens": budget}
        if seed is not None:
            body["seed"] = seed
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
        while True:
            resp = await self._post(body, count)
            choice = resp["choices"][0]
            finish = choice.get("finish_reason")
            content = (choice.get("message") or {}).get("content") or ""
            usage = resp.get("usage") or {}
            count("prompt_tokens", usage.get("prompt_tokens") or 0)
            count("completion_tokens", usage.get("completion_tokens") or 0)
            room = self.room(usage.get("prompt_tokens") or 0)
            if finish == "length" and body["max_tokens"] < min(room, 32768):
                count("length_retries")
                body = {**body, "max_tokens": min(2 * body["max_tokens"], room, 32768)}
                continue
            break
        # A file create on disk takes about a millisecond; in a worker thread it does not hold up the loop.
        await asyncio.to_thread(_store, path, {"content": content, "finish_reason": finish})
        return Completion(content, finish)

    async def _post(self, body: dict, count) -> dict:
        """One completion through transient faults; a request over the model's context is shrunk once to fit."""
        try:
            return await self._retrying(body, count)
        except openai.BadRequestError as e:
            too_long, ctx, prompt = context_error(e)
            if not too_long:
                raise EndpointUnavailable(f"the endpoint refused the request: {_short(e)}") from e
            if not (ctx and prompt and ctx - prompt - 16 >= 64):
                raise ContextTooLong(f"the prompt does not fit the model's context ({_short(e)})") from e
            self.context_tokens = self.context_tokens or ctx
        try:
            return await self._retrying({**body, "max_tokens": ctx - prompt - 16}, count)
        except openai.BadRequestError as e:
            raise ContextTooLong(f"the prompt does not fit the model's context ({_short(e)})") from e

    async def _retrying(self, body: dict, count) -> dict:
        """Transient faults retried (tenacity) with jittered backoff or the server's Retry-After, whichever is
        longer, until the next wait would pass the budget; client errors (4xx) are not retried."""
        backoff = wait_exponential_jitter(initial=0.2, max=10)
        retrying = AsyncRetrying(retry=retry_if_exception(transient), reraise=True,
                                 stop=stop_before_delay(self.retry_budget_s),
                                 wait=lambda state: max(backoff(state), retry_after(state.outcome.exception()) or 0.0),
                                 before_sleep=lambda state: count("retries"))
        try:
            return await retrying(self._attempt, body, count)
        except openai.BadRequestError:
            raise
        except Exception as e:
            if not transient(e):
                raise EndpointUnavailable(f"the endpoint refused the request: {type(e).__name__}: {_short(e)}") from e
            tries = retrying.statistics.get("attempt_number", 1)
            raise EndpointUnavailable(f"the endpoint still failed after {tries} tries over "
                                      f"{self.retry_budget_s:.0f}s ({type(e).__name__})") from e

    async def _attempt(self, body: dict, count) -> dict:
        """One request, once the breaker and the concurrency limit let it through; its outcome feeds both."""
        await self.breaker.admit()
        async with self._limit:
            t0 = time.perf_counter()
            try:
                try:
                    resp = await self._client.post("/chat/completions", body=body, cast_to=dict)
                except ValueError as e:  # a 2xx whose JSON body is cut off
                    raise MalformedReply(f"the reply body is not JSON ({e})") from e
                if not isinstance(resp, dict) or not resp.get("choices"):
                    raise MalformedReply("the reply has no choices")
            except Exception as e:
                if transient(e):
                    self.breaker.failure(retry_after(e))
                    if isinstance(e, (openai.RateLimitError, openai.APITimeoutError)) or (
                            isinstance(e, openai.APIStatusError) and e.status_code in (502, 503, 504)):
                        self._limit.overload()
                raise
            finally:
                count("latency_s", time.perf_counter() - t0)
        count("requests")
        self.breaker.success()
        self._limit.success()
        return resp


def _short(e: BaseException) -> str:
    return str(e).replace("\n", " ")[:200]


def _store(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(entry))


@dataclass
class EndpointInfo:
    model: str
    context_tokens: int | None
    models: list[str]


def probe(base_url: str | None, api_key: str | None, model: str, timeout_s: float = 30.0) -> EndpointInfo:
    """Check the endpoint once before any work: reachable, the key accepted, the model served, structured
    output accepted, and the context length when the server reports it (vLLM's `max_model_len`).
    Raises EndpointUnavailable saying what to fix."""
    where = base_url or "the default OpenAI endpoint"
    with openai.OpenAI(base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout_s, max_retries=2) as client:
        try:
            listing = client.get("/models", cast_to=dict)
        except openai.NotFoundError:
            listing = {}  # some servers have no /models: the completion below still checks the model
        except openai.APIConnectionError as e:
            raise EndpointUnavailable(f"cannot reach {where} ({type(e).__name__}); check --llm-base-url "
                                      "(e.g. http://host:8000/v1) and that the server is up") from None
        except openai.APIStatusError as e:
            raise EndpointUnavailable(_refusal(where, e, "GET /models")) from None
        rows = [r for r in (listing.get("data") or [] if isinstance(listing, dict) else []) if isinstance(r, dict)]
        models = [str(r.get("id")) for r in rows]
        if models and model not in models:
            raise EndpointUnavailable(f"{where} does not serve the model '{model}'; it serves: {', '.join(models[:20])}. "
                                      "Fix --llm-model")
        row = next((r for r in rows if r.get("id") == model), {})
        context = next((row[k] for k in ("max_model_len", "context_length", "context_window", "max_context_length")
                        if isinstance(row.get(k), int)), None)
        schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"], "additionalProperties": False}
        try:
            client.post("/chat/completions", cast_to=dict, body={
                "model": model, "max_tokens": 8, "temperature": 0, "messages": [{"role": "user", "content": 'Answer {"ok": true}'}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "probe", "schema": schema, "strict": True}}})
        except openai.APIConnectionError as e:
            raise EndpointUnavailable(f"cannot reach {where} ({type(e).__name__}); check --llm-base-url") from None
        except openai.APIStatusError as e:
            if e.status_code < 500 and e.status_code != 429:
                raise EndpointUnavailable(_refusal(where, e, "a one-line structured-output request")) from None
    return EndpointInfo(model=model, context_tokens=context, models=models)


def _refusal(where: str, e: openai.APIStatusError, what: str) -> str:
    if e.status_code == 401:
        return f"{where} refused the API key (401); set OPENAI_API_KEY or --llm-api-key"
    if e.status_code == 403:
        return f"{where} denied access (403); check the API key's permissions"
    if e.status_code == 404:
        return (f"{where} answered 404 to {what}: no such route or model; check --llm-base-url (it usually ends "
                "in /v1) and --llm-model")
    return (f"{where} refused {what} ({e.status_code}: {_short(e)}); the pipeline needs chat completions with "
            "JSON-schema response_format (vLLM, SGLang and OpenAI's API support it)")
