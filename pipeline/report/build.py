"""The run report: what a person would rather look at than read, built from the shards.

`report/index.html` with PNG plots (Big Five coverage, sessions over the calendar, hour/weekday
rhythm, image rate, preference shifts, true personality drift) and sample conversations with their
images. Every figure comes from the shards' merged partial aggregates (`aggregate.py`, one task per
shard), so the driver holds tallies and a few personas' rows, never a column of the run. Returns the
statistics that also go into the manifest.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from pipeline.fanout import Map, in_process  # noqa: E402
from pipeline.mme.bias import gold_line, verdict  # noqa: E402
from pipeline.progress import Task, silent  # noqa: E402
from pipeline.records import TRAITS  # noqa: E402
from pipeline.report.aggregate import (  # noqa: E402
    BUDGET_BINS,
    RATE_BINS,
    TRAIT_BINS,
    Partial,
    aggregate_shard,
    distinct_n,
    image_bytes,
    shard_calls,
)
from pipeline.world.clock import WEEKDAYS  # noqa: E402


def build_report(run_dir: Path, extra: dict | None = None, task: Task | None = None, run: Map = in_process) -> dict:
    """Plots and the HTML page from the shards' partial aggregates (one call of `run` per shard); `extra`
    (e.g. dedup counts) joins the statistics table."""
    task = task or silent()
    out = run_dir / "report"
    (out / "img").mkdir(parents=True, exist_ok=True)
    calls = shard_calls(run_dir)
    if not any(c[1] == "sessions" for c in calls):  # no persona shipped (all quarantined or waiting for a rerun)
        stats = {"personas": 0, "sessions": 0, "turns": 0, **(extra or {})}
        _write_html(out / "index.html", run_dir.name, stats, [])
        return stats
    task.phase("reading shards", len(calls))
    agg = Partial()
    for partial in run(aggregate_shard, calls):
        agg.merge(partial)
        task.advance()
    task.phase("plotting", 9)

    def step(what: str) -> None:
        task.advance()
        task.note(what)

    stats = _statistics(agg)
    step("Big Five")
    _plot_big_five(agg, out / "big_five.png")
    step("calendar")
    _plot_calendar(agg, out / "calendar.png")
    step("rhythm")
    _plot_rhythm(agg.grids["rhythm"], out / "rhythm.png")
    step("image rate")
    _plot_image_rate(agg, out / "image_rate.png")
    step("preference shifts")
    _plot_shifts(agg, out / "preference_shifts.png")
    step("personality")
    _plot_personality(agg.firsts["personality"], out / "personality.png")
    sources = agg.tallies["sources"]
    if set(sources) != {"scripted"}:
        _plot_sources(sources, out / "text_sources.png")
    step("labels")
    stats.update(_labels(agg, out))
    step("Persona-MME")
    stats.update(_mme(agg, run_dir, out))
    stats.update(extra or {})
    step("samples")
    samples = _samples(run_dir, [row for _, row in agg.firsts["samples"]], out, run)
    _write_html(out / "index.html", run_dir.name, stats, samples)
    plt.close("all")
    return stats


def _statistics(agg: Partial) -> dict:
    count, tally = agg.tallies["count"], agg.tallies
    sample = [text for _, text in agg.firsts["turn_sample"]]
    shifts = tally["shifts_per_persona"] + Counter({0: count["personas"] - sum(tally["shifts_per_persona"].values())})
    top = tally["top_turns"].most_common(1)
    return {
        "personas": count["personas"], "sessions": count["sessions"], "turns": count["turns"],
        "user_turns": count["user_turns"], "images": count["images"],
        "image_rate": round(count["images"] / count["user_turns"], 4) if count["user_turns"] else 0.0,
        "sessions_per_persona": _summary(tally["sessions_per_persona"]),
        "turns_per_session": _summary(tally["turns_per_session"]),
        "preference_shifts_per_persona": _summary(shifts),
        "events_by_kind": dict(sorted(tally["events_by_kind"].items())),
        # over the whole corpus (HyperLogLog++ estimate of the distinct n-grams), and on a fixed 10k-turn sample
        # (chosen by a hash of the turn's id), which compares across run sizes: distinct-n falls as a corpus grows
        **{f"distinct_{n}_user": round(agg.sketches[f"user_{n}grams"].count() / count[f"user_{n}grams"], 4)
           if count[f"user_{n}grams"] else 0.0 for n in (2, 3)},
        **{f"distinct_{n}_user_10k": round(distinct_n(sample, n), 4) for n in (2, 3)},
        "text_source_share": {k: round(v / max(1, count["turns"]), 4) for k, v in sorted(tally["sources"].items())},
        "most_repeated_user_turn_share": round(top[0][1] / count["user_turns"], 5) if top else 0,
    }


def _plot_sources(sources: Counter, path: Path) -> None:
    """Who wrote the turns: the LLM at the first try, after a repair request, or the scripted draft as fallback."""
    colours = {"llm": "#4c72b0", "llm-repaired": "#55a868", "scripted-fallback": "#c44e52", "scripted": "#8c8c8c"}
    order = [k for k in colours if k in sources]
    total = sum(sources.values())
    fig, ax = plt.subplots(figsize=(6, 2.6))
    bars = ax.barh(order, [100 * sources[k] / total for k in order], color=[colours[k] for k in order])
    ax.bar_label(bars, labels=[f"{100 * sources[k] / total:.1f}% ({sources[k]:,})" for k in order], padding=3)
    ax.set_xlabel("share of turns (%)")
    ax.set_xlim(0, 115)
    ax.invert_yaxis()
    ax.set_title("Text source of the shipped turns")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _summary(values: Counter) -> dict:
    """min, mean and max of a tally (value -> how often)."""
    n = sum(values.values())
    if not n:
        return {"min": 0, "mean": 0, "max": 0}
    return {"min": int(min(values)), "mean": round(sum(v * c for v, c in values.items()) / n, 2), "max": int(max(values))}


def _plot_big_five(agg: Partial, path: Path) -> None:
    """Pairwise scatter of the binned scores (a point per occupied bin pair, its size the personas in it)."""
    centres = (TRAIT_BINS[:-1] + TRAIT_BINS[1:]) / 2
    fig, axes = plt.subplots(5, 5, figsize=(11, 11))
    for split, colour in (("train", "tab:blue"), ("bench", "tab:orange")):
        grid = agg.grids.get(f"big_five/{split}")
        if grid is None:
            continue
        for i in range(5):
            for j in range(5):
                ax = axes[i, j]
                if i == j:
                    ax.hist(centres, bins=TRAIT_BINS, weights=np.diag(grid[i, i]), alpha=0.6, color=colour, label=split)
                else:
                    a, b = np.nonzero(grid[i, j])
                    ax.scatter(centres[b], centres[a], s=4 * grid[i, j][a, b], alpha=0.5, color=colour)
                ax.set_xlim(1, 5)
                if i == 4:
                    ax.set_xlabel(TRAITS[j][:5])
                if j == 0:
                    ax.set_ylabel(TRAITS[i][:5])
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper right", title="split")
    fig.suptitle("Big Five coverage (Latin hypercube per split): pairwise, binned; on the diagonal, personas per score bin")
    fig.tight_layout(rect=(0, 0, 0.93, 0.97))
    fig.savefig(path, dpi=80)


def _full_weeks(first: datetime, last: datetime) -> int:
    """Weeks from `first` that the timeline covers completely: a last partial week would read as a drop-off."""
    return max(1, ((last - first).days + 1) // 7)


def _plot_calendar(agg: Partial, path: Path) -> None:
    first, last = agg.lows["start"], agg.highs["start"]
    n_weeks = _full_weeks(first, last)
    rows = agg.firsts["calendar"]
    grid = np.zeros((len(rows), n_weeks))
    for r, (_, starts) in enumerate(rows):
        for s in starts:
            if (w := (s - first).days // 7) < n_weeks:
                grid[r, w] += 1
    per_persona = agg.tallies["sessions_per_persona"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 1]})
    im = a.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
    a.set_xlabel(f"week since {first:%Y-%m-%d} (complete weeks only)")
    a.set_ylabel(f"persona (first {len(rows)} by id)")
    a.set_title("Sessions per persona per week")
    fig.colorbar(im, ax=a, label="sessions")
    b.hist(list(per_persona), weights=list(per_persona.values()), bins=20, color="tab:green")
    b.set_xlabel("sessions over the whole timeline")
    b.set_ylabel("personas")
    b.yaxis.set_major_locator(MaxNLocator(integer=True))
    b.set_title("Sessions per persona")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _plot_rhythm(grid: np.ndarray, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 3.6))
    im = ax.imshow(grid, aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_yticks(range(7), [w[:3] for w in WEEKDAYS])
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("hour of session start")
    ax.set_ylabel("weekday")
    ax.set_title("When personas talk to the assistant (session starts)")
    fig.colorbar(im, ax=ax, label="sessions")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _plot_image_rate(agg: Partial, path: Path) -> None:
    """Per persona the rate sits on the configured share by construction; the spread is in the sessions."""
    count, rates = agg.tallies["count"], agg.grids["image_rate"]
    overall = count["images"] / max(1, count["user_turns"])
    low, high = agg.lows.get("image_rate", 0.0), agg.highs.get("image_rate", 0.0)
    upto = max(50, int(np.flatnonzero(rates).max()) + 2 if rates.any() else 50)
    edges = np.arange(upto + 1) / RATE_BINS
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
    a.hist(edges[:-1], bins=edges, weights=rates[:upto], color="tab:purple")
    a.axvline(overall, color="k", linestyle="--")
    a.set_xlabel("share of user turns with an image, per persona")
    a.set_ylabel("personas")
    a.yaxis.set_major_locator(MaxNLocator(integer=True))
    a.set_title(f"Image rate per persona: overall {overall:.1%}, range {low:.1%}–{high:.1%}", fontsize=10)
    per_session = agg.tallies["images_per_session"]
    b.bar(list(per_session), list(per_session.values()), width=1.0, color="tab:purple")
    b.set_xlabel("images in the session")
    b.set_ylabel("sessions")
    b.set_title("Images per session")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _plot_shifts(agg: Partial, path: Path) -> None:
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    by_day = agg.tallies["shifts_by_day"]
    if by_day:
        first, last = agg.lows["shift"], agg.highs["shift"]
        weeks = _full_weeks(first, last)
        bottom = np.zeros(weeks)
        for c in sorted({c for _, c in by_day}):
            counts = np.zeros(weeks)
            for (day, cc), n in by_day.items():
                if cc == c and (w := (date.fromisoformat(day) - first.date()).days // 7) < weeks:
                    counts[w] += n
            a.bar(range(weeks), counts, bottom=bottom, label=c)
            bottom += counts
        a.legend(fontsize=7, ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1), title="category", title_fontsize=7)
        a.set_xlabel(f"week since {first:%Y-%m-%d} (complete weeks only)")
        a.set_ylabel("preference shifts")
        a.set_title("Preference shifts over time, by category")
        rows = agg.firsts["shifts"]
        for i, (_, times) in enumerate(rows):
            ts = [(t - first).days for t in times]
            b.plot(ts, [i] * len(ts), "o-", ms=4, lw=0.8)
        b.set_xlabel(f"day since {first:%Y-%m-%d}")
        b.set_ylabel(f"persona (first {len(rows)} by id)")
        b.set_title("Each persona's shifts")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _plot_personality(rows: list[tuple[str, list]], path: Path) -> None:
    """The first personas by id whose sessions carry the truth (a benchmark history ships without it)."""
    if not rows:
        return
    fig, axes = plt.subplots(1, len(rows), figsize=(4 * len(rows), 3.4), sharey=True, squeeze=False)
    for ax, (pid, sessions) in zip(axes[0], rows):
        for trait in TRAITS:
            ax.plot([s for s, _ in sessions], [t[trait] for _, t in sessions], label=trait[:5])
        ax.set_title(pid, fontsize=9)
        ax.set_ylim(1, 5)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_xlabel("session date")
    axes[0][0].set_ylabel("trait score (1–5)")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle("True Big Five at each session: slow drift, shifts after strong life events")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _labels(agg: Partial, out: Path) -> dict:
    """Label statistics and plots: task and question mixes, option balance, the personality estimate."""
    tally = agg.tallies
    stats: dict = {}
    fig, axes = plt.subplots(1, 4, figsize=(18, 4), gridspec_kw={"width_ratios": [1.2, 1.2, 1, 1]})
    if tasks := tally["sft_tasks"]:
        n = sum(tasks.values())
        stats["sft_tasks"] = dict(sorted(tasks.items()))
        axes[0].bar(list(stats["sft_tasks"]), [v / n for v in stats["sft_tasks"].values()], color="tab:blue")
        axes[0].set_title(f"SFT task mix ({n:,} samples)")
        axes[0].set_ylabel("share of samples")
        axes[0].tick_params(axis="x", labelrotation=30)
    if tally["memory_ops"]:
        stats["memory_ops"] = dict(sorted(tally["memory_ops"].items()))
        mems = ("core", "semantic", "episodic", "procedural")
        bottom = np.zeros(4)
        for op in ("ADD", "UPDATE", "DELETE", "NOOP"):
            v = np.array([stats["memory_ops"].get(f"{m}/{op}", 0) for m in mems])
            axes[1].bar(mems, v, bottom=bottom, label=op)
            bottom += v
        axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        axes[1].set_ylabel("operations")
        axes[1].tick_params(axis="x", labelrotation=30)
        axes[1].set_title("Memory operations")
    if kinds := tally["rl_kinds"]:
        stats["rl_kinds"] = dict(sorted(kinds.items()))
        positions = tally["rl_mc_correct_position"]
        stats["rl_mc_correct_position"] = dict(sorted(positions.items()))
        n_mc = sum(positions.values())
        stats["rl_mc_correct_uniquely_longest"] = round(tally["count"]["rl_mc_uniquely_longest"] / n_mc, 4) if n_mc else 0.0
        axes[2].bar(list(stats["rl_kinds"]), list(stats["rl_kinds"].values()), color="tab:orange")
        axes[2].set_title(f"GRPO prompt kinds ({sum(kinds.values()):,})")
        axes[2].set_ylabel("prompts")
        axes[3].bar(list(stats["rl_mc_correct_position"]), list(stats["rl_mc_correct_position"].values()), color="tab:green")
        axes[3].set_title(f"Correct option\n(uniquely longest: {stats['rl_mc_correct_uniquely_longest']:.0%}; chance 25%)")
        axes[3].set_xlabel("correct option (multiple-choice)")
        axes[3].set_ylabel("prompts")
    fig.tight_layout()
    fig.savefig(out / "labels.png", dpi=80)
    if "estimate_error" in agg.grids:
        total, n = agg.grids["estimate_error"]
        stats["personality_final_mae"] = round(float(total / n), 4)
        _plot_estimate(agg.firsts["estimate"], stats["personality_final_mae"], out / "personality_estimate.png")
    return stats


def _mme(agg: Partial, run_dir: Path, out: Path) -> dict:
    """Persona-MME: questions per task and setting, and how long the histories are."""
    questions, count = agg.tallies["mme_questions"], agg.tallies["count"]
    if not questions:
        return {}
    settings = sorted(questions, key=lambda x: int(x[:-1]))
    per = agg.tallies["mme_task_setting"]
    tasks = sorted({task for task, _ in per})
    total = sum(questions.values())
    stats = {"mme_questions": dict(sorted(questions.items())), "mme_needs_image": round(count["mme_needs_image"] / total, 4)}
    for setting in settings:
        for what in ("context_turns", "context_tokens"):
            key = f"mme_{setting}_{what}"
            stats[key] = {"min": int(agg.lows[key]), "mean": round(count[key] / questions[setting], 2),
                          "max": int(agg.highs[key])}
    audit = json.loads((run_dir / "mme_build.json").read_text()) if (run_dir / "mme_build.json").exists() else {}
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(20, 5.5), gridspec_kw={"width_ratios": [3, 2, 3]})
    y = np.arange(len(tasks))
    for k, setting in enumerate(settings):
        a.barh(y + 0.4 * k, [per[(task, setting)] for task in tasks], height=0.4, label=setting)
        b.hist(BUDGET_BINS[:-1], bins=BUDGET_BINS, weights=agg.grids[f"mme_budget/{setting}"], alpha=0.6, label=setting)
    a.set_yticks(y + 0.2, tasks, fontsize=8)
    a.set_title(f"Persona-MME questions per task ({total:,}; {stats['mme_needs_image']:.0%} need a photo)")
    a.set_xlabel("questions")
    b.set_title("History per question, % of the setting's token budget")
    b.set_xlabel("% of 32k / 128k tokens")
    b.set_ylabel("questions")
    fig.legend(*a.get_legend_handles_labels(), loc="lower left", ncol=len(settings), title="setting", fontsize=8)
    if bias := audit.get("bias"):
        names = sorted(bias)
        best = [bias[t]["baselines"][bias[t]["best"]] for t in names]
        acc = np.array([100 * x["accuracy"] for x in best])
        err = np.array([[100 * (x["accuracy"] - x["ci95"][0]), 100 * (x["ci95"][1] - x["accuracy"])] for x in best]).T
        yy = np.arange(len(names))
        c.errorbar(acc, yy, xerr=err, fmt="o", label="best no-history baseline (95% CI)")
        c.scatter([100 * bias[t]["chance"] for t in names], yy, marker="|", s=200, color="k", label="chance")
        c.set_yticks(yy, [f"{t} ({bias[t]['best']})" for t in names], fontsize=7)
        c.set_xlabel("accuracy without the history, %")
        c.set_title(f"Leak checks; certified by an evidence flip: {audit.get('certified_share', 0):.0%} of items")
        c.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(out / "mme.png", dpi=80)
    return stats


def _plot_estimate(rows: list[tuple[str, list[dict]]], mae: float, path: Path) -> None:
    fig, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 3.4), sharey=True, squeeze=False)
    for ax, (pid, mine) in zip(axes[0], rows):
        for k, t in enumerate(TRAITS):
            colour = f"C{k}"
            ax.plot([r["m"] for r in mine], [r["true"][t] for r in mine], color=colour, label=t[:5])
            ax.plot([r["m"] for r in mine], [r["estimate"][t] for r in mine], color=colour, linestyle="--")
        ax.set_title(pid, fontsize=9)
        ax.set_xlabel("session number")
        ax.set_ylim(1, 5)
    axes[0][0].set_ylabel("trait score (1–5)")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(f"True traits (solid) vs EMA estimate from per-session scores (dashed); final MAE {mae:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _samples(run_dir: Path, sessions: list[dict], out: Path, run: Map) -> list[dict]:
    """The sample sessions, with their pictures fetched from the image shards and copied next to the report."""
    wanted = [i for s in sessions for t in s["turns"] for i in t["image_ids"]]
    by_id: dict[str, bytes] = {}
    calls = [(str(p), wanted) for p in sorted((run_dir / "data" / "images").glob("*.parquet"))] if wanted else []
    for found in run(image_bytes, calls):
        by_id.update(found)
    samples = []
    for row in sessions:
        turns = []
        for t in row["turns"]:
            files = []
            for image_id in t["image_ids"]:
                name = image_id.replace("/", "_") + ".png"
                (out / "img" / name).write_bytes(by_id[image_id])
                files.append(f"img/{name}")
            turns.append({"role": t["role"], "time": t["time"], "text": t["text"], "images": files})
        samples.append({"id": row["id"], "turns": turns})
    return samples


def _number(v) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return html.escape(str(v))
    if isinstance(v, int) or float(v).is_integer() and abs(v) >= 1:
        return f"{int(v):,}"
    return f"{v:.4g}"


def _html_value(v) -> str:
    """A statistic as the page shows it: numbers formatted, a mapping as a small table, never a Python repr."""
    if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):  # rows x columns
        cols = list(dict.fromkeys(k for x in v.values() for k in x))
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
        body = "".join(f"<tr><th>{html.escape(str(k))}</th>" + "".join(f"<td>{_html_value(x.get(c, ''))}</td>" for c in cols)
                       + "</tr>" for k, x in v.items())
        return f"<table class='inner'><tr><th></th>{head}</tr>{body}</table>"
    if isinstance(v, dict) and len(v) > 8:  # long: one row per key
        return "<table class='inner'>" + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_html_value(x)}</td></tr>"
                                                 for k, x in v.items()) + "</table>"
    if isinstance(v, dict):
        head = "".join(f"<th>{html.escape(str(k))}</th>" for k in v)
        return f"<table class='inner'><tr>{head}</tr><tr>" + "".join(f"<td>{_html_value(x)}</td>" for x in v.values()) + \
            "</tr></table>"
    if isinstance(v, (list, tuple)):
        return ", ".join(_html_value(x) for x in v)
    return _number(v)


def _write_html(path: Path, name: str, stats: dict, samples: list[dict]) -> None:
    audit = stats.get("persona_mme_audit")
    rows = "".join(f"<tr><th>{html.escape(k.replace('_', ' '))}</th><td>{_html_value(v)}</td></tr>"
                   for k, v in stats.items() if k != "persona_mme_audit")
    bias = ""
    if audit:
        head = ("<tr><th>task</th><th>n</th><th>chance</th><th>best no-history baseline</th><th>accuracy</th>"
                "<th>95% CI</th><th>within 5 (CI within 8) points</th><th>verdict</th></tr>")
        body = "".join(
            f"<tr><td>{html.escape(task)}</td><td>{r['n']}</td><td>{r['chance']:.0%}</td><td>{html.escape(r['best'])}</td>"
            f"<td>{r['baselines'][r['best']]['accuracy']:.1%}</td><td>{r['baselines'][r['best']]['ci95'][0]:.1%}–"
            f"{r['baselines'][r['best']]['ci95'][1]:.1%}</td><td>{'yes' if r['on_target'] else 'no'}</td>"
            f"<td>{html.escape(verdict(r))}</td></tr>" for task, r in audit["bias"].items())
        sizes = "; ".join(f"{k}: median {v['median']:,} tokens ({v['median_share']:.0%} of the budget), max {v['max']:,} "
                          f"({v['max_share']:.0%})" for k, v in audit.get("context_tokens", {}).items())
        bias = (f"<h2>Persona-MME leak checks</h2><p>{audit['questions']:,} questions shipped; "
                f"{audit['balanced_away']} dropped to balance answers; certified by an evidence flip: "
                f"{audit['certified_share']:.1%} of items ({audit['certified_share_multiple_choice']:.1%} of multiple-choice); "
                f"multiple-choice that need a photo: {audit['needs_image_share_multiple_choice']:.1%}. "
                f"{html.escape(gold_line(audit))} Histories: "
                f"{html.escape(sizes)}.</p><table>{head}{body}</table>")
    plots = "".join(f'<h2>{title}</h2><img src="{f}" style="max-width:100%">' for title, f in (
        ("Big Five coverage", "big_five.png"), ("Sessions over the calendar", "calendar.png"),
        ("Hour and weekday rhythm", "rhythm.png"), ("Image rate", "image_rate.png"),
        ("Preference shifts", "preference_shifts.png"), ("True personality over time", "personality.png"),
        ("Personality estimate (EMA) vs truth", "personality_estimate.png"), ("Training labels", "labels.png"),
        ("Persona-MME", "mme.png"), ("Text sources", "text_sources.png"), ("SFT training", "train_sft.png"),
        ("GRPO training", "train_grpo.png"))
        if (path.parent / f).exists())
    from pipeline.personavlm.export import RELEASE_BEHAVIOURS

    release = ("<h2>Use with PersonaVLM's code</h2><p><code>python -m pipeline export personavlm "
               f"outputs/{html.escape(name)}</code> writes the benchmark, SFT and RL data in the release's own layouts. "
               "The export is tested (tests/personavlm) against these behaviours of the release's code:</p><ul>"
               + "".join(f"<li>{html.escape(b)}</li>" for b in RELEASE_BEHAVIOURS) + "</ul>")
    convs = ""
    for s in samples:
        convs += f"<h3>{html.escape(s['id'])}</h3><div class='conv'>"
        for t in s["turns"]:
            imgs = "".join(f'<br><img src="{f}" width="220">' for f in t["images"])
            convs += (f"<p class='{t['role']}'><b>{t['role']}</b> <small>{t['time']}</small><br>"
                      f"{html.escape(t['text'])}{imgs}</p>")
        convs += "</div>"
    path.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>PersonaForge report: {html.escape(name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} td,th{{padding:2px 10px;border-bottom:1px solid #ddd}}
th{{text-align:left;font-weight:600}} table.inner{{font-size:85%;border-collapse:collapse}} table.inner th{{font-weight:500;color:#444}}
td{{text-align:right}} td:first-child{{text-align:left}}
.conv p{{padding:6px 10px;border-radius:8px;max-width:70%}} .user{{background:#e8f0fe}}
.assistant{{background:#f1f1f1;margin-left:25%}}</style>
</head><body><h1>PersonaForge run report: {html.escape(name)}</h1><h2>Statistics</h2><table>{rows}</table>
{plots}{bias}{release}<h2>Sample conversations</h2>{convs}</body></html>
""")
