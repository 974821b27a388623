"""An OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks, with injectable faults.

It answers /v1/chat/completions for the `openai` text backend: it finds the draft session in the
request and returns schema-valid JSON that rewrites it (so every required phrase is kept), after an
optional fixed latency. Faults, as shares of requests: 429, 500, 404 (a client error such as an
unknown model), timeout (no answer in time), malformed JSON, schema-invalid JSON, and a reply that
omits a planned fact.

A request without a response format is a Persona-MME question; `policy` answers it: "oracle" from
`answer_key` (the question message -> the right option), "random", or "longest" (a no-context
guess from the options alone).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from collections import Counter

from aiohttp import web

FAULTS = ("429", "500", "404", "timeout", "malformed", "invalid", "omit")


class FakeOpenAI:
    def __init__(self, faults: dict[str, float] | None = None, latency_s: float = 0.0, hang_s: float = 30.0, seed: int = 0,
                 policy: str = "random", answer_key: dict[str, str] | None = None):
        self.faults = {k: 0.0 for k in FAULTS} | (faults or {})
        self.policy, self.answer_key = policy, answer_key or {}
        self.seen_images = 0
        self.latency_s, self.hang_s = latency_s, hang_s
        self.rng = random.Random(seed)
        self.outcomes: Counter[str] = Counter()
        self._loop = self._runner = None

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    def start(self) -> str:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._handle)
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

    def _pick(self) -> str:
        roll, acc = self.rng.random(), 0.0
        for name in FAULTS:
            acc += self.faults[name]
            if roll < acc:
                return name
        return "ok"

    async def _handle(self, request: web.Request) -> web.Response:
        status, reply = await self.respond(await request.json())
        return web.json_response(reply, status=status)

    async def respond(self, body: dict) -> tuple[int, dict]:
        """(HTTP status, JSON reply) for one /v1/chat/completions request body."""
        outcome = self._pick()
        self.outcomes[outcome] += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if outcome in ("429", "500", "404"):
            return int(outcome), {"error": {"message": f"injected {outcome}", "type": "server_error"}}
        if outcome == "timeout":
            await asyncio.sleep(self.hang_s)
        if "response_format" not in body:
            content = self._answer(body["messages"])
        else:
            content = self._content(body["messages"], outcome)
        return 200, {
            "id": f"cmpl-{self.requests}", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(json.dumps(body["messages"])) // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": 0}}

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
        text = dict(options)[letter]
        return f"{letter} {text}"

    def _content(self, messages: list[dict], outcome: str) -> str:
        if outcome == "malformed":
            return '{"turns": [{"index": 0, "text": "unterminated'
        if outcome == "invalid":
            return json.dumps({"turns": [{"index": "zero", "words": "wrong shape"}]})
        draft = next(m["content"] for m in messages if m["role"] == "user" and "```json" in m["content"])
        turns = json.loads(re.search(r"```json\n(.*)\n```", draft, re.DOTALL).group(1))
        out = [{"index": t["index"], "text": (f"Honestly, {t['draft'][:1].lower()}{t['draft'][1:]}" if t["role"] == "user"
                                              and t["draft"][:2] != "I " else t["draft"])} for t in turns]
        if outcome == "omit":
            target = next((t for t in turns if t["must_include"]), None)
            if target is not None:
                term = target["must_include"][0]
                out[target["index"]]["text"] = re.sub(re.escape(term), "something", out[target["index"]]["text"],
                                                      flags=re.IGNORECASE)
        return json.dumps({"turns": out})


def build_serve_app(serving_args: dict):
    """A Ray Serve app in place of `ray.serve.llm.build_openai_app` (which needs vLLM and a GPU): it takes
    the same LLMServingArgs dict and answers /v1/chat/completions like FakeOpenAI, so the pipeline's
    launch, routing and teardown run for real on CPU. `/v1/models` lists the served model ids."""
    from ray import serve
    from starlette.responses import JSONResponse

    model_ids = [c["model_loading_config"]["model_id"] for c in serving_args["llm_configs"]]

    @serve.deployment(name="fake-llm", num_replicas=serving_args["llm_configs"][0]["deployment_config"]
                      ["autoscaling_config"]["min_replicas"], ray_actor_options={"num_cpus": 0})
    class FakeLLM:
        def __init__(self) -> None:
            self.fake = FakeOpenAI()

        async def __call__(self, request):
            if request.url.path.endswith("/models"):
                return JSONResponse({"object": "list", "data": [{"id": m, "object": "model"} for m in model_ids]})
            status, reply = await self.fake.respond(await request.json())
            return JSONResponse(reply, status_code=status)

    return FakeLLM.bind()
