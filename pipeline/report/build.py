"""The run report: what a person would rather look at than read, built from the shards.

`report/index.html` with PNG plots (Big Five coverage, sessions over the calendar, hour/weekday
rhythm, image rate, preference shifts, true personality drift) and sample conversations with their
images. Returns the statistics that also go into the manifest.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.dataset as pads  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from pipeline.labels.rl import uniquely_longest  # noqa: E402
from pipeline.mme.bias import verdict  # noqa: E402
from pipeline.mme.context import BUDGET  # noqa: E402
from pipeline.progress import Task, silent  # noqa: E402
from pipeline.records import TRAITS  # noqa: E402
from pipeline.world.clock import WEEKDAYS  # noqa: E402

_WORD = re.compile(r"[a-z0-9']+")


def _table(run_dir: Path, name: str, columns: list[str] | None = None) -> pa.Table | None:
    files = sorted((run_dir / "data" / name).glob("*.parquet"))
    return pads.dataset(files, format="parquet").to_table(columns=columns) if files else None


def distinct_n(texts: list[str], n: int) -> float:
    """Share of distinct n-grams among all n-grams (higher = more varied wording)."""
    total, seen = 0, set()
    for t in texts:
        w = _WORD.findall(t.lower())
        grams = list(zip(*(w[i:] for i in range(n))))
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def build_report(run_dir: Path, n_samples: int = 3, extra: dict | None = None, task: Task | None = None) -> dict:
    """Plots and the HTML page; `extra` (e.g. dedup counts) joins the statistics table."""
    task = task or silent()

    def step(what: str) -> None:
        task.advance()
        task.note(what)

    out = run_dir / "report"
    (out / "img").mkdir(parents=True, exist_ok=True)
    if _table(run_dir, "sessions", ["id"]) is None:  # no persona shipped (all quarantined or waiting for a rerun)
        stats = {"personas": 0, "sessions": 0, "turns": 0, **(extra or {})}
        _write_html(out / "index.html", run_dir.name, stats, [])
        return stats
    personas = _table(run_dir, "personas", ["id", "split", "big_five"]).to_pylist()
    sessions = _table(run_dir, "sessions", ["id", "persona_id", "start_time", "turns", "true_personality"])
    events = _table(run_dir, "events", ["persona_id", "kind", "time", "facts"])

    turns = pc.list_flatten(sessions["turns"]).combine_chunks()
    roles = turns.field("role").to_numpy(zero_copy_only=False)
    texts = turns.field("text").to_pylist()
    has_image = pc.greater(pc.list_value_length(turns.field("image_ids")), 0).to_numpy(zero_copy_only=False)
    user = roles == "user"
    user_texts = [t for t, u in zip(texts, user) if u]
    sources = Counter(turns.field("source").to_pylist())
    starts = [datetime.strptime(s, "%Y-%m-%d %H:%M") for s in sessions["start_time"].to_pylist()]
    session_pids = sessions["persona_id"].to_pylist()
    per_persona_sessions = Counter(session_pids)
    turn_pids = np.repeat(np.array(session_pids), pc.list_value_length(sessions["turns"]).to_numpy())
    kinds = events["kind"].to_pylist()
    shift_rows = [(pid, datetime.strptime(t, "%Y-%m-%d %H:%M"), f[0]["key"].split("/", 1)[1])
                  for pid, k, t, f in zip(events["persona_id"].to_pylist(), kinds, events["time"].to_pylist(),
                                          events["facts"].to_pylist()) if k == "preference_shift"]
    shifts_per_persona = Counter(pid for pid, _, _ in shift_rows)

    stats = {
        "personas": len(personas), "sessions": sessions.num_rows, "turns": len(texts), "user_turns": int(user.sum()),
        "images": int(has_image.sum()),
        "image_rate": round(float(has_image[user].mean()) if user.any() else 0.0, 4),
        "sessions_per_persona": _summary(list(per_persona_sessions.values())),
        "turns_per_session": _summary(pc.list_value_length(sessions["turns"]).to_pylist()),
        "preference_shifts_per_persona": _summary([shifts_per_persona.get(p["id"], 0) for p in personas]),
        "events_by_kind": dict(sorted(Counter(kinds).items())),
        "distinct_2_user": round(distinct_n(user_texts, 2), 4), "distinct_3_user": round(distinct_n(user_texts, 3), 4),
        # distinct-n falls as a corpus grows; on a fixed 10k-turn sample it compares across run sizes
        "distinct_2_user_10k": round(distinct_n(user_texts[:: max(1, len(user_texts) // 10_000)][:10_000], 2), 4),
        "distinct_3_user_10k": round(distinct_n(user_texts[:: max(1, len(user_texts) // 10_000)][:10_000], 3), 4),
        "text_source_share": {k: round(v / max(1, len(texts)), 4) for k, v in sorted(sources.items())},
        "most_repeated_user_turn_share": round(Counter(user_texts).most_common(1)[0][1] / len(user_texts), 5) if user_texts else 0,
    }

    step("Big Five")
    _plot_big_five(personas, out / "big_five.png")
    step("calendar")
    _plot_calendar(starts, session_pids, out / "calendar.png")
    step("rhythm")
    _plot_rhythm(starts, out / "rhythm.png")
    step("image rate")
    lengths = pc.list_value_length(sessions["turns"]).to_numpy()
    per_session = np.add.reduceat(has_image.astype(int), np.r_[0, np.cumsum(lengths)[:-1]]) if len(lengths) else has_image
    _plot_image_rate(turn_pids[user], has_image[user], per_session, out / "image_rate.png")
    step("preference shifts")
    _plot_shifts(shift_rows, out / "preference_shifts.png")
    step("personality")
    _plot_personality(sessions, out / "personality.png")
    if set(sources) != {"scripted"}:
        _plot_sources(sources, out / "text_sources.png")
    step("labels")
    stats.update(_labels(run_dir, out))
    step("Persona-MME")
    stats.update(_mme(run_dir, out))
    stats.update(extra or {})
    step("samples")
    samples = _samples(run_dir, sessions, out, n_samples)
    _write_html(out / "index.html", run_dir.name, stats, samples)
    plt.close("all")
    return stats


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


def _summary(xs: list[int]) -> dict:
    a = np.asarray(xs, dtype=float)
    if a.size == 0:
        return {"min": 0, "mean": 0, "max": 0}
    return {"min": int(a.min()), "mean": round(float(a.mean()), 2), "max": int(a.max())}


def _plot_big_five(personas: list[dict], path: Path) -> None:
    fig, axes = plt.subplots(5, 5, figsize=(11, 11))
    for split, colour in (("train", "tab:blue"), ("bench", "tab:orange")):
        pts = np.array([[p["big_five"][t] for t in TRAITS] for p in personas if p["split"] == split])
        if pts.size == 0:
            continue
        for i in range(5):
            for j in range(5):
                ax = axes[i, j]
                if i == j:
                    ax.hist(pts[:, i], bins=np.linspace(1, 5, 17), alpha=0.6, color=colour, label=split)
                else:
                    ax.scatter(pts[:, j], pts[:, i], s=4, alpha=0.5, color=colour)
                ax.set_xlim(1, 5)
                if i == 4:
                    ax.set_xlabel(TRAITS[j][:5])
                if j == 0:
                    ax.set_ylabel(TRAITS[i][:5])
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper right", title="split")
    fig.suptitle("Big Five coverage (Latin hypercube per split): pairwise scatter; on the diagonal, personas per score bin")
    fig.tight_layout(rect=(0, 0, 0.93, 0.97))
    fig.savefig(path, dpi=80)


def _full_weeks(first: datetime, last: datetime) -> int:
    """Weeks from `first` that the timeline covers completely: a last partial week would read as a drop-off."""
    return max(1, ((last - first).days + 1) // 7)


def _plot_calendar(starts: list[datetime], pids: list[str], path: Path) -> None:
    first, last = min(starts), max(starts)
    n_weeks = _full_weeks(first, last)
    weeks = np.array([(s - first).days // 7 for s in starts])
    ids = sorted(set(pids))[:80]
    row = {p: i for i, p in enumerate(ids)}
    grid = np.zeros((len(ids), n_weeks))
    for w, p in zip(weeks, pids):
        if p in row and w < n_weeks:
            grid[row[p], w] += 1
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 1]})
    im = a.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
    a.set_xlabel(f"week since {first:%Y-%m-%d} (complete weeks only)")
    a.set_ylabel(f"persona (first {len(ids)} by id)")
    a.set_title("Sessions per persona per week")
    fig.colorbar(im, ax=a, label="sessions")
    b.hist(list(Counter(pids).values()), bins=20, color="tab:green")
    b.set_xlabel("sessions over the whole timeline")
    b.set_ylabel("personas")
    b.yaxis.set_major_locator(MaxNLocator(integer=True))
    b.set_title("Sessions per persona")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _plot_rhythm(starts: list[datetime], path: Path) -> None:
    grid = np.zeros((7, 24))
    for s in starts:
        grid[s.weekday(), s.hour] += 1
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


def _plot_image_rate(pids: np.ndarray, has_image: np.ndarray, per_session: np.ndarray, path: Path) -> None:
    """Per persona the rate sits on the configured share by construction; the spread is in the sessions."""
    rates = np.array([has_image[pids == p].mean() for p in np.unique(pids)])
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
    a.hist(rates, bins=np.linspace(0, max(0.5, 2 * rates.max()), 26), color="tab:purple")
    a.axvline(float(has_image.mean()), color="k", linestyle="--")
    a.set_xlabel("share of user turns with an image, per persona")
    a.set_ylabel("personas")
    a.yaxis.set_major_locator(MaxNLocator(integer=True))
    a.set_title(f"Image rate per persona: overall {has_image.mean():.1%}, range {rates.min():.1%}–{rates.max():.1%}",
                fontsize=10)
    b.hist(per_session, bins=np.arange(per_session.max() + 2) - 0.5, color="tab:purple")
    b.set_xlabel("images in the session")
    b.set_ylabel("sessions")
    b.set_title("Images per session")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _plot_shifts(rows: list[tuple[str, datetime, str]], path: Path) -> None:
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    if rows:
        first, last = min(t for _, t, _ in rows), max(t for _, t, _ in rows)
        cats = sorted({c for _, _, c in rows})
        weeks = _full_weeks(first, last)
        bottom = np.zeros(weeks)
        for c in cats:
            w = [(t - first).days // 7 for _, t, cc in rows if cc == c]
            counts = np.bincount([x for x in w if x < weeks], minlength=weeks)
            a.bar(range(weeks), counts, bottom=bottom, label=c)
            bottom += counts
        a.legend(fontsize=7, ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1), title="category", title_fontsize=7)
        a.set_xlabel(f"week since {first:%Y-%m-%d} (complete weeks only)")
        a.set_ylabel("preference shifts")
        a.set_title("Preference shifts over time, by category")
        ids = sorted({p for p, _, _ in rows})[:40]
        for i, p in enumerate(ids):
            ts = [(t - first).days for pp, t, _ in rows if pp == p]
            b.plot(ts, [i] * len(ts), "o-", ms=4, lw=0.8)
        b.set_xlabel(f"day since {first:%Y-%m-%d}")
        b.set_ylabel(f"persona (first {len(ids)} by id)")
        b.set_title("Each persona's shifts")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _plot_personality(sessions: pa.Table, path: Path, n: int = 4) -> None:
    pids = sessions["persona_id"].to_pylist()
    traits = sessions["true_personality"].to_pylist()
    ids = sorted({p for p, t in zip(pids, traits) if t is not None})[:n]  # a benchmark history ships without the truth
    if not ids:
        return
    fig, axes = plt.subplots(1, len(ids), figsize=(4 * len(ids), 3.4), sharey=True, squeeze=False)
    starts = [datetime.strptime(t, "%Y-%m-%d %H:%M") for t in sessions["start_time"].to_pylist()]
    for ax, pid in zip(axes[0], ids):
        rows = [(s, t) for s, t, p in zip(starts, traits, pids) if p == pid]
        for trait in TRAITS:
            ax.plot([s for s, _ in rows], [t[trait] for _, t in rows], label=trait[:5])
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


def _labels(run_dir: Path, out: Path) -> dict:
    """Label statistics and plots: task and question mixes, option balance, the personality estimate."""
    sft, rl = _table(run_dir, "sft", ["task"]), _table(run_dir, "rl", ["kind", "reference", "choices"])
    ops, pers = _table(run_dir, "memory_ops", ["memory", "op"]), _table(run_dir, "personality")
    stats: dict = {}
    fig, axes = plt.subplots(1, 4, figsize=(18, 4), gridspec_kw={"width_ratios": [1.2, 1.2, 1, 1]})
    if sft is not None:
        tasks = Counter(sft["task"].to_pylist())
        stats["sft_tasks"] = dict(sorted(tasks.items()))
        axes[0].bar(list(stats["sft_tasks"]), [v / sft.num_rows for v in stats["sft_tasks"].values()], color="tab:blue")
        axes[0].set_title(f"SFT task mix ({sft.num_rows:,} samples)")
        axes[0].set_ylabel("share of samples")
        axes[0].tick_params(axis="x", labelrotation=30)
    if ops is not None:
        pairs = Counter(zip(ops["memory"].to_pylist(), ops["op"].to_pylist()))
        stats["memory_ops"] = {f"{m}/{o}": n for (m, o), n in sorted(pairs.items())}
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
    if rl is not None and rl.num_rows:
        kinds = Counter(rl["kind"].to_pylist())
        stats["rl_kinds"] = dict(sorted(kinds.items()))
        mc = [(r, c) for k, r, c in zip(rl["kind"].to_pylist(), rl["reference"].to_pylist(), rl["choices"].to_pylist())
              if k == "multiple-choice"]
        positions = Counter(r for r, _ in mc)
        stats["rl_mc_correct_position"] = dict(sorted(positions.items()))
        longest = [uniquely_longest([(x["key"], x["text"]) for x in c], r) for r, c in mc]
        stats["rl_mc_correct_uniquely_longest"] = round(float(np.mean(longest)), 4) if longest else 0.0
        axes[2].bar(list(stats["rl_kinds"]), list(stats["rl_kinds"].values()), color="tab:orange")
        axes[2].set_title(f"GRPO prompt kinds ({rl.num_rows:,})")
        axes[2].set_ylabel("prompts")
        axes[3].bar(list(stats["rl_mc_correct_position"]), list(stats["rl_mc_correct_position"].values()), color="tab:green")
        axes[3].set_title(f"Correct option\n(uniquely longest: {stats['rl_mc_correct_uniquely_longest']:.0%}; chance 25%)")
        axes[3].set_xlabel("correct option (multiple-choice)")
        axes[3].set_ylabel("prompts")
    fig.tight_layout()
    fig.savefig(out / "labels.png", dpi=80)
    if pers is not None:
        stats["personality_final_mae"] = _plot_estimate(pers, out / "personality_estimate.png")
    return stats


def _mme(run_dir: Path, out: Path) -> dict:
    """Persona-MME: questions per task and setting, and how long the histories are."""
    t = _table(run_dir, "persona_mme", ["setting", "task", "context_tokens", "context_turns", "needs_image"])
    if t is None or not t.num_rows:
        return {}
    rows = t.to_pylist()
    settings = sorted({r["setting"] for r in rows}, key=lambda x: int(x[:-1]))
    per = Counter((r["task"], r["setting"]) for r in rows)
    tasks = sorted({r["task"] for r in rows})
    stats = {"mme_questions": dict(sorted(Counter(r["setting"] for r in rows).items())),
             "mme_needs_image": round(float(np.mean([r["needs_image"] for r in rows])), 4)}
    for setting in settings:
        sub = [r for r in rows if r["setting"] == setting]
        stats[f"mme_{setting}_context_turns"] = _summary([r["context_turns"] for r in sub])
        stats[f"mme_{setting}_context_tokens"] = _summary([r["context_tokens"] for r in sub])
    audit = json.loads((run_dir / "mme_build.json").read_text()) if (run_dir / "mme_build.json").exists() else {}
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(20, 5.5), gridspec_kw={"width_ratios": [3, 2, 3]})
    y = np.arange(len(tasks))
    for k, setting in enumerate(settings):
        a.barh(y + 0.4 * k, [per[(task, setting)] for task in tasks], height=0.4, label=setting)
        b.hist([100 * r["context_tokens"] / BUDGET[setting] for r in rows if r["setting"] == setting],
               bins=np.linspace(0, 100, 41), alpha=0.6, label=setting)
    a.set_yticks(y + 0.2, tasks, fontsize=8)
    a.set_title(f"Persona-MME questions per task ({len(rows):,}; {stats['mme_needs_image']:.0%} need a photo)")
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


def _plot_estimate(pers: pa.Table, path: Path, n: int = 3) -> float:
    rows = pers.to_pylist()
    last: dict[str, dict] = {}
    for r in rows:
        last[r["persona_id"]] = r
    mae = float(np.mean([np.mean([abs(r["estimate"][t] - r["true"][t]) for t in TRAITS]) for r in last.values()]))
    ids = sorted(last)[:n]
    fig, axes = plt.subplots(1, len(ids), figsize=(5 * len(ids), 3.4), sharey=True, squeeze=False)
    for ax, pid in zip(axes[0], ids):
        mine = [r for r in rows if r["persona_id"] == pid]
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
    return round(mae, 4)


def _samples(run_dir: Path, sessions: pa.Table, out: Path, n: int) -> list[dict]:
    """The first sessions that show images, with their pictures copied next to the report."""
    images = _table(run_dir, "images", ["id", "session_id", "image"])
    with_images = set(images["session_id"].to_pylist())
    picked, seen = [], set()
    for i, (sid, pid) in enumerate(zip(sessions["id"].to_pylist(), sessions["persona_id"].to_pylist())):
        if sid in with_images and pid not in seen and len(picked) < n:
            picked.append(i)
            seen.add(pid)
    by_id = {r["id"]: r["image"]["bytes"] for r in images.filter(
        pc.is_in(images["session_id"], pa.array([sessions["id"][i].as_py() for i in picked]))).to_pylist()}
    samples = []
    for i in picked:
        row = sessions.slice(i, 1).to_pylist()[0]
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
                f"multiple-choice that need a photo: {audit['needs_image_share_multiple_choice']:.1%}. Histories: "
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
