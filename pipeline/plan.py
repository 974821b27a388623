"""`--plan`: what a run will ask of the LLM endpoint, from the world plan alone, before a token is spent.

The drafts are the scripted verbalization (seconds per persona, no model), and the backend says what
each session's first request will send and expect back; repairs come on top, so the figures are a
floor that the manifest's actual figures are compared with after the run.
"""

from __future__ import annotations

from pipeline.config import RunConfig
from pipeline.generate import build_world
from pipeline.personas.lexicon import load_lexicon
from pipeline.personas.sampler import sample_personas
from pipeline.progress import Progress
from pipeline.verbalize.backend import make_backend
from pipeline.verbalize.scripted import ScriptedVerbalizer
from pipeline.verbalize.voice import Observed


def plan_run(cfg: RunConfig, progress: bool = True) -> dict:
    lex = load_lexicon(cfg.lexicon_dir)
    backend = make_backend(cfg, cfg.run_dir)
    drafts = ScriptedVerbalizer(cfg.seed)
    totals = {"personas": 0, "sessions": 0, "turns": 0, "requests": 0, "prompt_tokens": 0, "completion_tokens": 0}
    personas = sample_personas(cfg, lex)
    with Progress(progress).stage("plan", len(personas)) as task:
        for persona in personas:
            _plan_persona(persona, cfg, backend, drafts, totals)
            task.advance()
    totals["cost_usd"] = round(totals["prompt_tokens"] / 1e6 * cfg.llm_price_prompt
                               + totals["completion_tokens"] / 1e6 * cfg.llm_price_completion, 2)
    return totals


def _plan_persona(persona, cfg: RunConfig, backend, drafts: ScriptedVerbalizer, totals: dict) -> None:
    """Add one persona's planned requests and tokens to `totals`."""
    ctx = build_world(persona, cfg)
    totals["personas"] += 1
    observed = Observed()
    for plan in ctx.plans:
        draft = drafts.session(ctx.world, ctx.index.event, ctx.index.fact, plan, observed.poles())
        observed.add(draft)
        planned = backend.plan(ctx.world, draft, ctx.index.event, ctx.index.fact)
        totals["sessions"] += 1
        totals["turns"] += len(draft.turns)
        for k in ("requests", "prompt_tokens", "completion_tokens"):
            totals[k] += getattr(planned, k)


def render_plan(totals: dict, cfg: RunConfig) -> str:
    model = cfg.llm_model or "(scripted backend: no requests)"
    price = (f" at ${cfg.llm_price_prompt:g} / ${cfg.llm_price_completion:g} per million prompt / completion tokens"
             if cfg.llm_price_prompt or cfg.llm_price_completion else " (give --llm-price-prompt/--llm-price-completion for a cost)")
    return "\n".join([
        f"plan for {cfg.name} with {model}:",
        f"  personas           {totals['personas']:>14,}",
        f"  sessions           {totals['sessions']:>14,}",
        f"  turns              {totals['turns']:>14,}",
        f"  requests           {totals['requests']:>14,}   (one per session; repair requests come on top)",
        f"  prompt tokens      {totals['prompt_tokens']:>14,}",
        f"  completion tokens  {totals['completion_tokens']:>14,}",
        f"  cost               {'$' + format(totals['cost_usd'], ',.2f'):>14}{price}",
    ])
