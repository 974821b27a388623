"""The text-backend contract: what `generate.py` needs from a way of writing sessions.

Every backend starts from the scripted draft (which carries the plan by construction). A backend
may rewrite its turns (`rewrite`) and, told which turns failed the check and why, write those again
(`repair`); `generate.py` runs the check, the repairs and the fallback to the draft, the same for
every backend. A backend also says what a Ray task running it needs, so `run.py` wires any backend
the same way. A new backend is one class here or in its own module, registered in `BACKENDS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from pipeline.config import RunConfig
from pipeline.records import Event, Fact, Session
from pipeline.verbalize.check import Vocabulary
from pipeline.world.simulate import World


@dataclass(frozen=True)
class TaskShape:
    """How Ray runs a backend: CPUs per task and personas a task keeps in flight together."""

    num_cpus: float
    personas_per_task: int


@dataclass
class Planned:
    """What a backend expects to spend on one session, before any request."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class TextBackend(Protocol):
    name: ClassVar[str]
    source: ClassVar[str]  # the text source of a turn it writes at the first try
    repairs: int  # repair rounds for turns that fail the check
    vocabulary: Vocabulary  # the world's names and words, for the check of what a rewrite adds

    @classmethod
    def from_config(cls, cfg: RunConfig, run_dir: Path, base_url: str | None, context_tokens: int | None,
                    retry_rounds: dict[str, int]) -> TextBackend:
        """The backend inside the process (Ray task) that runs it."""
        ...

    @classmethod
    def shape(cls, cfg: RunConfig, personas: int, workers: int) -> TaskShape: ...

    async def rewrite(self, world: World, draft: Session, events: dict[str, Event], facts: dict[str, Fact],
                      stats: dict[str, float]) -> dict[int, str]:
        """New texts for the draft's turns, by turn index (a turn left out keeps its draft text)."""
        ...

    async def repair(self, world: World, draft: Session, current: Session, problems: dict[int, list[str]],
                     events: dict[str, Event], facts: dict[str, Fact], round_: int, stats: dict[str, float]) -> dict[int, str]:
        """New texts for the turns in `problems` only."""
        ...

    def plan(self, world: World, draft: Session, events: dict[str, Event], facts: dict[str, Fact]) -> Planned: ...

    @classmethod
    def probe(cls, cfg: RunConfig, base_url: str | None) -> int | None:
        """Check, in the driver before any work, that the backend can run; returns the model's context length
        when it has one. Raises EndpointUnavailable saying what to fix."""
        ...

    async def aclose(self) -> None: ...


class ScriptedBackend:
    """The embedded default: the draft is the text."""

    name: ClassVar[str] = "scripted"
    source: ClassVar[str] = "scripted"
    repairs = 0
    vocabulary = Vocabulary()

    @classmethod
    def from_config(cls, cfg: RunConfig, run_dir: Path, base_url: str | None, context_tokens: int | None,
                    retry_rounds: dict[str, int]) -> ScriptedBackend:
        return cls()

    @classmethod
    def shape(cls, cfg: RunConfig, personas: int, workers: int) -> TaskShape:
        # CPU bound, one persona after another on a core. Up to 10 a task: a Ray Data task costs tens of ms of
        # driver and worker time, a third of the default run's generation at one persona a task; at least
        # 8 tasks a worker keep the tail short.
        return TaskShape(num_cpus=1, personas_per_task=max(1, min(10, personas // (8 * workers))))

    async def rewrite(self, world, draft, events, facts, stats) -> dict[int, str]:
        return {t.index: t.text for t in draft.turns}

    async def repair(self, world, draft, current, problems, events, facts, round_, stats) -> dict[int, str]:
        return {}

    def plan(self, world, draft, events, facts) -> Planned:
        return Planned()

    @classmethod
    def probe(cls, cfg: RunConfig, base_url: str | None) -> int | None:
        return None

    async def aclose(self) -> None:
        pass


# config's `text_backend` -> "module:class"; a new backend is a module and a line here (and in the config's choices)
BACKENDS = {"scripted": "pipeline.verbalize.backend:ScriptedBackend", "openai": "pipeline.verbalize.openai_backend:LLMBackend"}


def backend_class(cfg: RunConfig) -> type:
    module, name = BACKENDS[cfg.text_backend].split(":")
    return getattr(importlib.import_module(module), name)


def make_backend(cfg: RunConfig, run_dir: Path, base_url: str | None = None, context_tokens: int | None = None,
                 retry_rounds: dict[str, int] | None = None):
    """The configured backend, built inside the process (Ray task) that uses it. `retry_rounds`: personas
    being tried again after a quarantine, and how often (a backend that samples draws fresh samples)."""
    return backend_class(cfg).from_config(cfg, run_dir, base_url, context_tokens, retry_rounds or {})
