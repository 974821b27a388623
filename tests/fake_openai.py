"""An OpenAI-compatible chat server on 127.0.0.1 that behaves like real instruct models, for tests and
benchmarks: it rewrites the draft session in the request the way a model would, errs at configurable
rates, and fails as real endpoints fail.

What a reply may do (shares of turns or of replies, from `Behaviour`, with profiles in `PROFILES`):
- paraphrase a turn correctly: dates in other words ("2 weeks back", "Mar 3rd"), digits for number
  words, British spellings; a good checker must accept these;
- drop a required term or the date, invent a person or a place, blur an activity ("we just hung out");
- wrap the JSON in a code fence, put a sentence before it, add keys, give indices as strings;
- need more room than `max_tokens` (a verbose model): the reply stops at the limit, finish_reason "length".
Transport faults (shares of requests): 429 and 503 with Retry-After, 500, a hang past the client's
timeout, a 200 whose body is cut off, 404; `outage(seconds)` (or `outage_after`) answers 503 to
everything for a while;
`context_tokens` answers vLLM's 400 when prompt + max_tokens does not fit.

Replies are a function of the request (its seed included), so a deterministic run stays byte-identical
across reruns; a request with another seed is another sample. Transport faults are drawn in arrival order.
GET /v1/models lists the served model with its `max_model_len`, as vLLM does.

A chat request without a response format is a Persona-MME question; `policy` answers it: "oracle"
from `answer_key` (the question message -> the right option), "random", or "longest".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

FAULTS = ("429", "503", "500", "404", "timeout", "corrupt")


@dataclass(frozen=True)
class Behaviour:
    """How often a simulated model does each thing. Turn-level shares apply to each turn it writes."""

    paraphrase: float = 0.0  # turn: a correct rewording of dates, numbers and spellings
    drop: float = 0.0  # turn: a required term or the date goes missing
    invent: float = 0.0  # turn: a person or place the world does not have
    vague: float = 0.0  # turn: the activity blurred into "hung out"
    fence: float = 0.0  # reply: JSON inside a ``` code fence
    preamble: float = 0.0  # reply: a sentence before the JSON
    extra_key: float = 0.0  # reply: keys the schema does not have
    string_index: float = 0.0  # reply: "index": "3"
    verbose: float = 0.0  # reply: needs 2.5x the room of its text, so a tight max_tokens cuts it
    stubborn: float = 1.0  # a repair request errs this many times as often (models repeat their mistakes)


# Rates chosen to match what audits measured of real models after a first try: a strong model fails
# a session's check in a few percent of sessions, a typical 7B in about half before repairs.
PROFILES = {
    "perfect": Behaviour(),
    "strong": Behaviour(paraphrase=0.5, drop=0.004, invent=0.003, vague=0.002, fence=0.05, preamble=0.02, extra_key=0.02,
                        string_index=0.01, verbose=0.01, stubborn=3.0),
    "7b": Behaviour(paraphrase=0.5, drop=0.04, invent=0.025, vague=0.02, fence=0.3, preamble=0.15, extra_key=0.1,
                    string_index=0.1, verbose=0.05, stubborn=4.0),
}

# Correct rewordings: each pattern and its replacement mean the same day or the same thing.
_SAME = [(r"\btwo weeks ago\b", "2 weeks back"), (r"\bthree weeks ago\b", "about three weeks back"),
         (r"\ba couple of weeks ago\b", "a couple weeks back"), (r"\b(\w+) days ago\b", lambda m: f"{_digits(m.group(1))} days back"),
         (r"\bon (Jan|Feb|Mar|Apr|Aug|Sep|Oct|Nov|Dec)[a-z]* (\d+)\b", lambda m: f"on {m.group(1)} {_ordinal(int(m.group(2)))}"),
         (r"\ba week ago\b", "a week back"), (r"\bfavorite\b", "favourite"), (r"\bcolor", "colour"),
         (r"\bthree hundred\b", "300")]
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
            "twelve": 12, "thirteen": 13}
_INVENTED = (" Bartholomew came along too.", " We ended up at the Zanzibar Grill afterwards.", " Ottoline says hi.")


def _digits(word: str) -> str:
    return str(_NUMBERS.get(word, word))


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


class FakeOpenAI:
    def __init__(self, faults: dict[str, float] | None = None, latency_s: float = 0.0, hang_s: float = 30.0, seed: int = 0,
                 policy: str = "random", answer_key: dict[str, str] | None = None, behaviour: Behaviour | str = "perfect",
                 context_tokens: int | None = None, retry_after_s: float = 1.0, model: str = "fake-model",
                 outage_after: tuple[int, float] | None = None):
        unknown = set(faults or {}) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        self.faults = {k: 0.0 for k in FAULTS} | (faults or {})
        self.behaviour = PROFILES[behaviour] if isinstance(behaviour, str) else behaviour
        self.policy, self.answer_key = policy, answer_key or {}
        self.context_tokens, self.retry_after_s, self.model = context_tokens, retry_after_s, model
        self.seen_images = 0
        self.latency_s, self.hang_s = latency_s, hang_s
        self.rng = random.Random(seed)
        self.outcomes: Counter[str] = Counter()
        self.seeds: list[int | None] = []
        self.context_rejections = 0
        self._down_until = 0.0
        self.outage_after = outage_after  # (requests, seconds): go down once after that many requests
        self._loop = self._runner = None

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    def outage(self, seconds: float) -> None:
        """Answer 503 (Retry-After) to every request for the next `seconds`."""
        self._down_until = time.monotonic() + seconds

    def start(self) -> str:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application(client_max_size=64 * 2**20)
            app.router.add_post("/v1/chat/completions", self._handle)
            app.router.add_get("/v1/models", self._models)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()

        threading.Thread(target=lambda: (self._loop.run_until_complete(serve()), self._loop.run_forever()),
                         daemon=True).start()
        ready.wait(10)
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)

    def models(self) -> dict:
        return {"object": "list", "data": [{"id": self.model, "object": "model", "max_model_len": self.context_tokens}]}

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(self.models())

    def _pick(self) -> str:
        if self.outage_after and self.requests >= self.outage_after[0]:
            self.outage(self.outage_after[1])
            self.outage_after = None
        if time.monotonic() < self._down_until:
            return "outage"
        roll, acc = self.rng.random(), 0.0
        for name in FAULTS:
            acc += self.faults[name]
            if roll < acc:
                return name
        return "ok"

    async def _handle(self, request: web.Request) -> web.Response:
        status, reply, headers = await self.respond(await request.json())
        if isinstance(reply, str):
            return web.Response(text=reply, status=status, content_type="application/json", headers=headers)
        return web.json_response(reply, status=status, headers=headers)

    async def respond(self, body: dict) -> tuple[int, dict | str, dict]:
        """(HTTP status, JSON reply or a raw body, headers) for one /v1/chat/completions request body."""
        outcome = self._pick()
        self.outcomes[outcome] += 1
        self.seeds.append(body.get("seed"))
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if outcome in ("429", "503", "outage"):
            return (429 if outcome == "429" else 503), _error(f"injected {outcome}"), {"Retry-After": f"{self.retry_after_s:g}"}
        if outcome in ("500", "404"):
            return int(outcome), _error(f"injected {outcome}"), {}
        if outcome == "timeout":
            await asyncio.sleep(self.hang_s)
        prompt = sum(tokens(m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])) + 4
                     for m in body["messages"])
        max_tokens = body.get("max_tokens") or 1 << 30
        if self.context_tokens is not None and prompt + max_tokens > self.context_tokens:
            self.context_rejections += 1
            return 400, _error(f"This model's maximum context length is {self.context_tokens} tokens. However, you "
                               f"requested {prompt + max_tokens} tokens ({prompt} in the messages, {max_tokens} in the "
                               "completion). Please reduce the length of the messages or completion."), {}
        rng = random.Random(hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest())
        if "response_format" not in body:
            content, need = self._answer(body["messages"]), None
        else:
            content, need = self._content(body["messages"], rng)
        finish = "stop"
        need = need or tokens(content)
        if need > max_tokens:  # the model ran out of room mid-reply
            content, finish = content[: max(0, int(len(content) * max_tokens / need))], "length"
        reply = {"id": f"cmpl-{self.requests}", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
                 "usage": {"prompt_tokens": prompt, "completion_tokens": min(need, max_tokens), "total_tokens": 0}}
        if outcome == "corrupt":
            raw = json.dumps(reply)
            return 200, raw[: len(raw) // 2], {}
        return 200, reply, {}

    def _answer(self, messages: list[dict]) -> str:
        self.seen_images += sum(1 for m in messages if isinstance(m["content"], list)
                                for part in m["content"] if part["type"] == "image_url")
        question = messages[-1]["content"]
        options = re.findall(r"^(\([a-d]\)) (.*)$", question, flags=re.MULTILINE)
        if self.policy == "oracle":
            letter = self.answer_key[question]
        elif self.policy == "longest":
            letter = max(options, key=lambda o: len(o[1]))[0]
        else:
            letter = self.rng.choice(options)[0]
        return f"{letter} {dict(options)[letter]}"

    def _content(self, messages: list[dict], rng: random.Random) -> tuple[str, int | None]:
        """A rewrite of the draft turns in the request (all of them, or the ones a repair asks for)."""
        user = messages[-1]["content"]
        blocks = re.findall(r"```json\n(.*?)\n```", user, re.DOTALL)
        if not blocks:  # the endpoint probe
            return json.dumps({"ok": True}), None
        turns = json.loads(blocks[-1])
        b = self.behaviour
        k = b.stubborn if "need another try" in user else 1.0
        out = []
        for t in turns:
            text = t["draft"]
            if rng.random() < b.paraphrase:
                for pattern, repl in _SAME:
                    text = re.sub(pattern, repl, text)
                if t["role"] == "user":
                    text = f"Honestly? {text}"
            if rng.random() < b.drop * k and (t["keep"] or t.get("dates")):
                if t["keep"]:
                    text = re.sub(re.escape(t["keep"][0]), "something", text, flags=re.IGNORECASE)
                else:
                    phrase = t["dates"][0].split(" = ")[0]
                    text = re.sub(re.escape(phrase), "recently", text, flags=re.IGNORECASE)
            if rng.random() < b.invent * k:
                text += rng.choice(_INVENTED)
            if (rng.random() < b.vague * k and t["keep"] and t.get("dates") and t["role"] == "user"
                    and f" at {t['keep'][0]}" in t["draft"]):  # an activity at a place
                text = f"{t['dates'][0].split(' = ')[0].capitalize()} we just hung out, {' and '.join(t['keep'])}."
            item: dict = {"index": t["index"], "text": text}
            if rng.random() < b.string_index:
                item["index"] = str(t["index"])
            if rng.random() < b.extra_key:
                item["role"] = t["role"]
            out.append(item)
        reply = {"turns": out}
        if rng.random() < b.extra_key:
            reply["notes"] = "kept every required word"
        content = json.dumps(reply, ensure_ascii=False)
        if rng.random() < b.fence:
            content = f"```json\n{content}\n```"
        if rng.random() < b.preamble:
            content = "Sure! Here is the rewritten session:\n" + content
        need = int(tokens(content) * 2.5) if rng.random() < b.verbose else None
        return content, need


def _error(message: str) -> dict:
    return {"error": {"message": message, "type": "server_error"}}


def build_serve_app(serving_args: dict):
    """A Ray Serve app in place of `ray.serve.llm.build_openai_app` (which needs vLLM and a GPU): it takes
    the same LLMServingArgs dict and answers /v1/chat/completions like FakeOpenAI, so the pipeline's
    launch, routing and teardown run for real on CPU. `/v1/models` lists the served model ids."""
    from ray import serve
    from starlette.responses import JSONResponse, Response

    model_ids = [c["model_loading_config"]["model_id"] for c in serving_args["llm_configs"]]

    @serve.deployment(name="fake-llm", num_replicas=serving_args["llm_configs"][0]["deployment_config"]
                      ["autoscaling_config"]["min_replicas"], ray_actor_options={"num_cpus": 0})
    class FakeLLM:
        def __init__(self) -> None:
            self.fake = FakeOpenAI(model=model_ids[0])

        async def __call__(self, request):
            if request.url.path.endswith("/models"):
                return JSONResponse({"object": "list", "data": [{"id": m, "object": "model"} for m in model_ids]})
            status, reply, headers = await self.fake.respond(await request.json())
            if isinstance(reply, str):
                return Response(reply, status_code=status, media_type="application/json", headers=headers)
            return JSONResponse(reply, status_code=status, headers=headers)

    return FakeLLM.bind()
