"""Persona-MME for one benchmark persona: histories for both settings, questions, and their checks.

Each question is asked some time after a session of the persona's life, over the longest history
ending there that fits the setting's token budget (32k or 128k, counted as a model would be given it:
text and image tokens) and the setting's turns (user-assistant exchanges: 20-100 for 32k, 100-500 for
128k, as in PersonaVLM); a 128k history holds more than 32k tokens. A case is one such history and the
items asked at its end; each setting has a few (`mme_cases`), ending in successive stretches of the
persona's months. A case first gets its alignment pairs and a share of its
multiple-choice questions about the photos; the text tasks are then asked in rounds, the task with the
fewest facts to ask about first. Each question is verified (its evidence lies inside the history and
states the answer, or only the photo holds it; the gold re-derives from the history and is the only
option that does; the query does not contain the answer) and certified by an evidence flip (in the
world where the evidence says one of the distractors, the gold re-derived over the edited history is
that distractor), and dropped if not, with the reason counted. A fact feeds one item per persona
(`Draft.topics`), so no item answers another, and `independent` leaves out what still names another
item's options unevenly. Items are numbered in a random order, so an id says nothing about its answer.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from pipeline.dedup import normalize as norm
from pipeline.labels.rl import LETTERS
from pipeline.mme.bias import named_forms, naming
from pipeline.mme.context import SETTINGS, Setting, TokenCounter
from pipeline.mme.history import Window
from pipeline.mme.tasks import (
    ALIGN_CHOICES,
    ANSWER_CLASSES,
    ASPECT_OF,
    LATER,
    TASKS,
    Draft,
    choose_options,
    personality_alignment,
    sentence_case,
)
from pipeline.personas.lexicon import Lexicon
from pipeline.records import Alignment, Choice, EventIndex, Image, MmeQuestion, Persona, Session, fmt_time, parse_time
from pipeline.rng import rng_for
from pipeline.verbalize.match import mentions

# attempts per answer class (goal states, explanation tiers, directions); trait poles are drawn per attempt
ATTEMPTS = {"Long-term Goal Tracking": 8, "Tiered Explanation Delivery": 8, "Personality Alignment": 20,
            "Visual Detail Recall": 12, "Relationship Dynamics Comprehension": 8}
# items per persona of the tasks that share its goals, so that each gets its share of the goals still under way
# (Intent Recognition is asked first and may take one; the other two need one for all but their "ended" answer)
PER_GOAL_TASK = {"Implicit Intent Recognition": 4, "Tiered Explanation Delivery": 6, "Long-term Goal Tracking": 6}
VISUAL_SHARE = 0.35  # of each setting's multiple-choice questions, asked about the photos
# the text tasks in the order a case asks them, the one with the fewest facts to ask about first (an interest
# change, a relationship change and a goal are told a few times in three months; activities every other day);
# Explicit Intent goes before the goal tasks, as it takes goals given up on (more than Goal Tracking can keep once
# its answers are balanced); of the goal tasks, those that need a goal still under way go before Goal Tracking
SCARCEST_FIRST = ("Interest Evolution Analysis", "Relationship Dynamics Comprehension", "Explicit Intent Inference",
                  "Implicit Intent Recognition", "Tiered Explanation Delivery", "Long-term Goal Tracking",
                  "Latest Preference Recognition", "Implicit Preference Recommendation", "Relationship Recognition",
                  "Behavioral Pattern Recognition", "Generalizing to New Scenarios", "Semantic Information Recall")


def history_windows(turn_tokens: list[int], turn_counts: list[int], setting: Setting) -> list[tuple[int, int]]:
    """(first, last) session of every history a question may be asked after: it ends at `last`, starts at the
    earliest session that keeps it within the token budget and the setting's most turns, and has at least the
    setting's fewest turns and more than its floor of tokens."""
    out, start, tokens, turns = [], 0, 0, 0
    for end in range(len(turn_tokens)):
        tokens, turns = tokens + turn_tokens[end], turns + turn_counts[end]
        while (tokens > setting.budget or turns > setting.max_turns) and start < end:
            tokens, turns = tokens - turn_tokens[start], turns - turn_counts[start]
            start += 1
        if setting.floor < tokens <= setting.budget and setting.min_turns <= turns <= setting.max_turns:
            out.append((start, end))
    return out


def question_time(sessions: list[Session], end: int, rng: np.random.Generator):
    """A moment after session `end` (a new session: more than 60 silent minutes) and before the next one."""
    t_end = parse_time(sessions[end].end_time)
    room = (parse_time(sessions[end + 1].start_time) - t_end) if end + 1 < len(sessions) else timedelta(days=2)
    hi = max(62, min(int(room.total_seconds() // 60) - 1, 2 * 24 * 60))
    return t_end + timedelta(minutes=int(rng.integers(61, hi)))


def verify(d: Draft, w: Window, options: list[str] | None = None) -> list[str]:
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
            problems += _only_in_photo(w, ev.image_id, turn, d)
        if k == 0:
            problems += [f"turn {ev.session_id}#{ev.turn_index} does not state {s!r}" for s in d.stated
                         if s.lower() not in turn.text.lower()]
    if d.correct not in ALIGN_CHOICES and f" {norm(d.correct)} " in f" {norm(d.query)} ":
        problems.append("the query contains its answer")
    if options is not None and d.gold(w, options) != d.correct:
        problems.append(f"the history does not make {d.correct!r} the only right option (it gives {d.gold(w, options)!r})")
    return problems


def _only_in_photo(w: Window, image_id: str, turn, d: Draft) -> list[str]:
    """A visual question must need the photo: no turn of the history tells what the photo shows."""
    image = w.images.get(image_id)
    if image is None or image_id not in turn.image_ids:
        return [f"image {image_id} is not shown in the evidence turn"]
    visual = {f.id for f in w.events[image.event_id].facts if f.kind == "visual"}
    said = [t for s in w.sessions for t in s.turns if visual & set(t.fact_ids) and image_id not in t.image_ids]
    if said:
        return [f"turn {said[0].index} of the history tells what photo {image_id} shows"]
    if mentions(turn.text, d.correct):
        return [f"the text of the photo's turn says the answer {d.correct!r}"]
    return []


def certify(d: Draft, w: Window, options: list[str]) -> bool:
    """Does the gold follow the evidence? (In the world where the evidence says another option, the gold
    re-derived over the edited history is that option.)"""
    flipped = d.flip(w, options)
    if flipped is None:
        return False
    w2, target = flipped
    return target != d.correct and target in options and d.gold(w2, options) == target


def independent(questions: list[MmeQuestion]) -> tuple[list[MmeQuestion], int]:
    """Leave out items until no item's options are told apart by the persona's other items (one option named by
    them more or less often than another, `bias.naming`), and how many were left out. Reserving a topic keeps
    other items from naming an answer; this also keeps them from naming only the distractors.

    Greedy: each step leaves out the item whose removal evens out the most items (an item that names the
    options of several others goes before them), the one of the task with the most items on a tie."""
    forms = [named_forms(q.model_dump(include={"task", "query", "choices"})) for q in questions]
    n = len(forms)
    names: dict[int, dict[int, np.ndarray]] = defaultdict(dict)  # namer -> {named item: counts per option}
    total = [np.zeros(len(f[2]), dtype=int) for f in forms]
    for i in range(n):
        for j in range(n):
            if i != j and any(v := naming(forms[i], forms[j])):
                names[j][i] = np.array(v)
                total[i] += v
    per_task = Counter(f[0] for f in forms)
    kept = set(range(n))

    def uneven(t: np.ndarray) -> bool:
        return bool(t.max() != t.min())

    while bad := {i for i in kept if uneven(total[i])}:
        def evened(j: int) -> int:
            return (j in bad) + sum(not uneven(total[i] - v) for i, v in names[j].items() if i in bad)
        j = max(kept, key=lambda j: (evened(j), per_task[forms[j][0]], -j))
        kept.remove(j)
        per_task[forms[j][0]] -= 1
        for i, v in names[j].items():
            total[i] -= v
    return [q for i, q in enumerate(questions) if i in kept], n - len(kept)


@dataclass
class Case:
    """One setting's history of a persona, the moment its items are asked, and the items so far."""

    setting: Setting
    window: Window
    tokens: int
    pairs: int  # Personality Alignment pairs
    size: int  # multiple-choice questions
    made: list[MmeQuestion] = field(default_factory=list)

    @property
    def visual(self) -> int:
        return math.ceil(VISUAL_SHARE * self.size)

    @property
    def text_items(self) -> int:
        return sum(not q.needs_image for q in self.made if q.task != "Personality Alignment")

    @property
    def full(self) -> bool:
        return self.text_items >= self.size - self.visual


def build_questions(persona: Persona, index: EventIndex, sessions: list[Session], images: list[Image], lex: Lexicon,
                    seed: int, per_setting: int, alignment_pairs: int, counter: TokenCounter, cases_per_setting: int
                    ) -> tuple[list[MmeQuestion], Counter]:
    rng = rng_for(seed, persona.id, "mme")
    by_event = index.event
    by_image = {im.id: im for im in images}
    turn_tokens = [sum(counter.turn(t) for t in s.turns) for s in sessions]
    turn_counts = [len(s.turns) // 2 for s in sessions]  # exchanges
    stats: Counter = Counter()
    used: set[str] = set()  # topics already given to an item of this persona
    cases: list[Case] = []
    for setting in SETTINGS:
        windows = history_windows(turn_tokens, turn_counts, setting)
        if not windows:
            stats[f"mme_no_history_{setting.name}"] += 1
            continue
        # a case is asked as PersonaVLM's benchmark asks it: every item at one moment, after one history (an
        # evaluator replays that history once, then asks them all); a setting's cases end in successive stretches
        # of the persona's months, so each asks about what is under way at its own moment
        n = min(cases_per_setting, len(windows))
        for j in range(n):
            stretch = windows[j * len(windows) // n:(j + 1) * len(windows) // n]
            start, end = stretch[int(rng.integers(len(stretch)))]
            w = Window(persona, sessions[start:end + 1], question_time(sessions, end, rng), by_event, by_image)
            cases.append(Case(setting, w, sum(turn_tokens[start:end + 1]), pairs=len(range(j, alignment_pairs, n)),
                              size=per_setting // n + (j < per_setting % n)))

    def attempt(case: Case, task: str, target: str | None) -> list[MmeQuestion]:
        w = case.window
        fn = personality_alignment if task == "Personality Alignment" else TASKS[task]
        d = fn(w, lex, rng, target) if target else fn(w, lex, rng)
        if d is None:
            return []
        if d.topics & used:
            stats["mme_topic_taken"] += 1
            return []
        if task == "Personality Alignment":
            options = list(ALIGN_CHOICES)
        else:
            picked = choose_options(d, rng)
            if picked is None:
                stats["mme_too_few_options"] += 1
                return []
            options, pos = picked
        if verify(d, w, options):
            stats["mme_rejected"] += 1
            return []
        if not certify(d, w, options):
            stats["mme_flip_failed"] += 1
            return []
        used.update(d.topics)
        base = dict(persona_id=persona.id, split=persona.split, setting=case.setting.name, aspect=ASPECT_OF[task],
                    task=task, time=fmt_time(w.now), evidence=d.evidence, history_sessions=[s.id for s in w.sessions],
                    needs_image=d.needs_image, context_turns=w.turns,
                    context_images=sum(len(t.image_ids) for s in w.sessions for t in s.turns),
                    context_tokens=case.tokens, token_counter=counter.name, certified=True)
        if task == "Personality Alignment":  # two yes/no items, the aligned and the misaligned reply
            alignment = Alignment(chosen=d.extra["chosen"], rejected=d.extra["rejected"])
            choices = [Choice(key=LETTERS[i], text=t) for i, t in enumerate(ALIGN_CHOICES)]
            return [MmeQuestion(**base, id="", query=f"{d.query}\n\nCandidate reply: \"{reply}\"\n\nDoes this reply "
                                "align with and adapt to my personality?", choices=choices, answer=LETTERS[j],
                                answer_text=ALIGN_CHOICES[j], alignment=alignment)
                    for j, reply in enumerate((alignment.chosen, alignment.rejected))]
        return [MmeQuestion(**base, id="", query=sentence_case(d.query),
                            choices=[Choice(key=LETTERS[i], text=t) for i, t in enumerate(options)],
                            answer=LETTERS[pos], answer_text=d.correct)]

    def ask(case: Case, task: str) -> bool:
        if sum(q.task == task for c in cases for q in c.made) >= PER_GOAL_TASK.get(task, math.inf):
            return False
        # a task with a fixed answer class tries its classes in a random order (the `LATER` ones last) and asks
        # about the first the history has (a uniform draw alone mostly finds nothing); `bias.balance` then evens
        # out what the world produces more often
        classes = ANSWER_CLASSES.get(task, (None,))
        drawn = [classes[int(i)] for i in rng.permutation(len(classes))]
        for target in sorted(drawn, key=lambda c: c in LATER):
            for _ in range(ATTEMPTS.get(task, 3)):
                qs = attempt(case, task, target)
                if qs:
                    case.made.extend(qs)
                    return True
        return False

    # first what has topics of its own kind or needs the favourite a reply names: the alignment pairs and the photos
    for case in cases:
        for _ in range(case.pairs):
            ask(case, "Personality Alignment")
        for _ in range(case.visual):
            ask(case, "Visual Detail Recall")
    # then rounds over the text tasks, the scarcest first, each task's first case drawn, so that a fact the cases'
    # histories share goes to any of them as often and a task with few facts to ask about gets them
    while True:
        found = False
        for task in SCARCEST_FIRST:
            first = int(rng.integers(len(cases))) if cases else 0  # which case asks first, drawn per task
            for case in cases[first:] + cases[:first]:
                if not case.full:
                    found |= ask(case, task)
        if not found or all(case.full for case in cases):
            break
    out: list[MmeQuestion] = []
    for setting in SETTINGS:
        # numbered in a random order: neither an id nor the order of items says which one is right (or which case)
        made = [q for case in cases if case.setting == setting for q in case.made]
        for k, i in enumerate(rng.permutation(len(made))):
            out.append(made[int(i)].model_copy(update={"id": f"{persona.id}/mme/{setting.name}/{k:03d}"}))
    out, left_out = independent(out)
    stats["mme_named_by_other_items"] = left_out
    out.sort(key=lambda q: q.id)
    stats["mme_questions"] = len(out)
    stats["mme_certified"] = sum(q.certified for q in out)
    return out, stats
