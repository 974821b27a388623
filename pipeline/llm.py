"""An OpenAI-compatible chat client for the generation stages: async under a concurrency limit,
retried with backoff on transient errors, structured (JSON schema) output, and a disk cache.

Every request is cached by a hash of (model, messages, sampling parameters, schema), so a rerun or a
resumed run re-spends no tokens and `offline=True` replays a run from the cache alone. The API key is
read from the environment (OPENAI_API_KEY) or given explicitly; it is never logged or stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from pipeline.atomic import write_text


class OfflineCacheMiss(RuntimeError):
    """--offline-replay met a request that is not in the cache."""


@dataclass
class LLMStats:
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    def as_dict(self, prefix: str = "llm_") -> dict[str, float]:
        return {f"{prefix}{k}": round(float(v), 3) for k, v in self.__dict__.items()}


def transient(e: BaseException) -> bool:
    """429, 5xx, timeouts and connection errors are worth another try; 4xx client errors are not."""
    if isinstance(e, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError)):
        return True
    return isinstance(e, openai.APIStatusError) and e.status_code >= 500


@dataclass
class LLM:
    model: str
    base_url: str | None
    api_key: str | None
    cache_dir: Path
    concurrency: int = 64
    temperature: float = 0.8
    max_tokens: int = 2048
    timeout_s: float = 60.0
    attempts: int = 6
    offline: bool = False
    stats: LLMStats = field(default_factory=LLMStats)

    def __post_init__(self) -> None:
        self._client = None
        self._sem: asyncio.Semaphore | None = None

    async def aclose(self) -> None:
        """Close the HTTP client on the loop that opened it."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    def key(self, messages: list[dict], schema: dict | None) -> str:
        blob = json.dumps({"model": self.model, "messages": messages, "schema": schema,
                           "params": {"temperature": self.temperature, "max_tokens": self.max_tokens}}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    async def complete(self, messages: list[dict], schema: dict | None = None, name: str = "reply",
                       stats: LLMStats | None = None) -> str:
        """The reply's content, from the cache when possible. With a `schema`, the request asks for
        structured output and the content is a JSON string (not yet validated). Counters go to `stats`
        (e.g. one per persona) as well as to the client's own."""
        counters = [self.stats] + ([stats] if stats is not None else [])

        def count(name: str, value: float = 1) -> None:
            for c in counters:
                setattr(c, name, getattr(c, name) + value)

        key = self.key(messages, schema)
        path = self.cache_dir / key[:2] / f"{key}.json"
        if path.exists():
            count("cache_hits")
            return json.loads(path.read_text())["content"]
        if self.offline:
            raise OfflineCacheMiss(f"request {key[:12]} is not in the cache {self.cache_dir}; run once online first")
        if self._client is None:
            # aiohttp as the transport: the SDK's choice for high concurrency, cheaper per request than httpx.
            self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key or "EMPTY",
                                              timeout=self.timeout_s, max_retries=0,
                                              http_client=openai.DefaultAioHttpClient(limits=httpx.Limits(
                                                  max_connections=self.concurrency, max_keepalive_connections=self.concurrency)))
            self._sem = asyncio.Semaphore(self.concurrency)
        # The request body goes out through the SDK's plain `post` (its documented route for custom
        # requests): `chat.completions.create` walks every parameter and the schema against its typed
        # signature first, the largest single cost in a profile of the client at concurrency 64.
        body = {"model": self.model, "messages": messages, "temperature": self.temperature, "max_tokens": self.max_tokens}
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
        async with self._sem:
            t0 = time.perf_counter()
            async for attempt in AsyncRetrying(stop=stop_after_attempt(self.attempts), reraise=True,
                                               wait=wait_exponential_jitter(initial=0.2, max=10),
                                               retry=retry_if_exception(transient)):
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        count("retries")
                    resp = await self._client.post("/chat/completions", body=body, cast_to=dict)
            count("latency_s", time.perf_counter() - t0)
        count("requests")
        usage = resp.get("usage") or {}
        count("prompt_tokens", usage.get("prompt_tokens") or 0)
        count("completion_tokens", usage.get("completion_tokens") or 0)
        content = resp["choices"][0]["message"].get("content") or ""
        # A file create on disk takes about a millisecond; in a worker thread it does not hold up the loop.
        await asyncio.to_thread(_store, path, content)
        return content


def _store(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps({"content": content}))
