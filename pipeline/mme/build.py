"""Persona-MME for one benchmark persona: histories for both settings, questions, and their checks.

Per setting, the persona's history starts at one session (so all its questions share one
`user_data.json` in the release layout) and each question is asked some time after a later session,
over everything from the start up to that moment: 20–100 turns for 32k, 100–500 turns within three
months for 128k. Tasks are tried in a per-persona random order so that every task is asked about
equally often across personas; each question is verified (its evidence lies inside the history and
states the answer, or the photo's spec holds it; the query does not contain the answer) and dropped
if not, with the reason counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from pipeline.dedup import normalize as norm
from pipeline.labels.rl import LETTERS
from pipeline.mme.context import TokenCounter
from pipeline.mme.history import Window
from pipeline.mme.tasks import ALIGN_CHOICES, ASPECT_OF, TASKS, Draft, choose_options, personality_alignment, sentence_case
from pipeline.personas.lexicon import Lexicon
from pipeline.records import Alignment, Choice, Event, Image, MmeQuestion, Persona, Session, fmt_time, parse_time
from pipeline.rng import rng_for


@dataclass(frozen=True)
class Setting:
    name: str
    turns: tuple[int, int]
    max_days: int | None
    budget: int  # tokens


# goal states, explanation tiers and trait poles are drawn first, and the draw often finds nothing to ask
ATTEMPTS = {"Long-term Goal Tracking": 30, "Tiered Explanation Delivery": 30, "Personality Alignment": 20}
SETTINGS = (Setting("32k", (20, 100), None, 32_768), Setting("128k", (100, 500), 92, 131_072))


def history_bounds(sessions: list[Session], setting: Setting, rng: np.random.Generator) -> tuple[int, list[int]]:
    """(first session, the sessions a question may follow) so that the history fits the setting."""
    def ends_from(start: int) -> list[int]:
        out, total = [], 0
        t0 = parse_time(sessions[start].start_time)
        for e in range(start, len(sessions)):
            total += len(sessions[e].turns)
            if total > setting.turns[1] or (setting.max_days and parse_time(sessions[e].end_time) - t0 > timedelta(days=setting.max_days)):
                break
            if total >= setting.turns[0]:
                out.append(e)
        return out

    start = 0
    if setting.name == "32k" and rng.random() < 0.6 and len(sessions) > 4:
        start = int(rng.integers(1, len(sessions) - 3))
    ends = ends_from(start)
    if not ends and start:
        start, ends = 0, ends_from(0)
    return start, ends


def question_time(sessions: list[Session], end: int, rng: np.random.Generator):
    """A moment after session `end` (a new session: more than 60 silent minutes) and before the next one."""
    t_end = parse_time(sessions[end].end_time)
    room = (parse_time(sessions[end + 1].start_time) - t_end) if end + 1 < len(sessions) else timedelta(days=2)
    hi = max(62, min(int(room.total_seconds() // 60) - 1, 2 * 24 * 60))
    return t_end + timedelta(minutes=int(rng.integers(61, hi)))


def verify(d: Draft, w: Window) -> list[str]:
    """What is wrong with a draft question over its history (empty: it is right by construction and by text)."""
    problems = []
    in_history = {s.id: s for s in w.sessions}
    for k, ev in enumerate(d.evidence):
        s = in_history.get(ev.session_id)
        if s is None:
            problems.append(f"evidence session {ev.session_id} is outside the history")
            continue
        turn = next((t for t in s.turns if t.index == ev.turn_index), None)
        if turn is None or parse_time(turn.time) >= w.now:
            problems.append(f"evidence turn {ev.session_id}#{ev.turn_index} is missing or not before the question")
            continue
        if ev.fact_id and ev.fact_id not in turn.fact_ids:
            problems.append(f"turn {ev.session_id}#{ev.turn_index} does not convey {ev.fact_id}")
        if ev.image_id:
            image = w.images.get(ev.image_id)
            if image is None or ev.image_id not in turn.image_ids:
                problems.append(f"image {ev.image_id} is not shown in turn {ev.session_id}#{ev.turn_index}")
            elif not _spec_holds(image, d.extra):
                problems.append(f"the spec of {ev.image_id} does not hold the answer {d.correct!r}")
        if k == 0 and d.stated and d.stated.lower() not in turn.text.lower():
            problems.append(f"turn {ev.session_id}#{ev.turn_index} does not state {d.stated!r}")
    if d.correct not in ALIGN_CHOICES and f" {norm(d.correct)} " in f" {norm(d.query)} ":
        problems.append("the query contains its answer")
    return problems


def _spec_holds(image: Image, extra: dict) -> bool:
    obj = next((o for o in image.spec.objects if o.name == extra.get("object")), None)
    if obj is None:
        return False
    return obj.colour == extra["colour"] if "colour" in extra else obj.count == extra["count"]


def build_questions(persona: Persona, events: list[Event], sessions: list[Session], images: list[Image], lex: Lexicon,
                    seed: int, per_setting: int, alignment_pairs: int, counter: TokenCounter
                    ) -> tuple[list[MmeQuestion], Counter]:
    rng = rng_for(seed, persona.id, "mme")
    by_event = {e.id: e for e in events}
    by_image = {im.id: im for im in images}
    turn_tokens = [sum(counter.turn(t) for t in s.turns) for s in sessions]
    out: list[MmeQuestion] = []
    stats: Counter = Counter()
    for setting in SETTINGS:
        start, ends = history_bounds(sessions, setting, rng)
        if not ends:
            stats[f"mme_no_history_{setting.name}"] += 1
            continue

        def attempt(task: str) -> list[MmeQuestion]:
            end = ends[int(rng.integers(len(ends)))]
            w = Window(persona, sessions[start:end + 1], question_time(sessions, end, rng), by_event, by_image)
            fn = personality_alignment if task == "Personality Alignment" else TASKS[task]
            d = fn(w, lex, rng)
            if d is None:
                return []
            problems = verify(d, w)
            if problems:
                stats["mme_rejected"] += 1
                return []
            tokens = sum(turn_tokens[start:end + 1])
            if tokens > setting.budget:
                stats["mme_over_budget"] += 1
                return []
            base = dict(persona_id=persona.id, split=persona.split, setting=setting.name, aspect=ASPECT_OF[task],
                        task=task, time=fmt_time(w.now), evidence=d.evidence, history_sessions=[s.id for s in w.sessions],
                        needs_image=d.needs_image, context_turns=w.turns,
                        context_images=sum(len(t.image_ids) for s in w.sessions for t in s.turns),
                        context_tokens=tokens, token_counter=counter.name)
            k = len([q for q in out if q.setting == setting.name])
            if task == "Personality Alignment":  # two yes/no items: the aligned reply is (a), the misaligned (b)
                alignment = Alignment(chosen=d.extra["chosen"], rejected=d.extra["rejected"])
                choices = [Choice(key=LETTERS[i], text=t) for i, t in enumerate(ALIGN_CHOICES)]
                return [MmeQuestion(**base, id=f"{persona.id}/mme/{setting.name}/{k + j:02d}",
                                    query=f"{d.query}\n\nCandidate reply: \"{reply}\"\n\nDoes this reply align with and "
                                          "adapt to my personality?",
                                    choices=choices, answer=LETTERS[j], answer_text=ALIGN_CHOICES[j], alignment=alignment)
                        for j, reply in enumerate((alignment.chosen, alignment.rejected))]
            picked = choose_options(d, rng)
            if picked is None:
                stats["mme_too_few_options"] += 1
                return []
            options, pos = picked
            return [MmeQuestion(**base, id=f"{persona.id}/mme/{setting.name}/{k:02d}", query=sentence_case(d.query),
                                choices=[Choice(key=LETTERS[i], text=t) for i, t in enumerate(options)],
                                answer=LETTERS[pos], answer_text=d.correct)]

        made = 0
        for task in [list(TASKS)[int(i)] for i in rng.permutation(len(TASKS))]:
            if made >= per_setting:
                break
            for _ in range(ATTEMPTS.get(task, 3)):
                qs = attempt(task)
                if qs:
                    out += qs
                    made += 1
                    break
        for _ in range(alignment_pairs):
            for _ in range(ATTEMPTS["Personality Alignment"]):
                qs = attempt("Personality Alignment")
                if qs:
                    out += qs
                    break
    stats["mme_questions"] = len(out)
    return out, stats
