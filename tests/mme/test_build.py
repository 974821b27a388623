from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from pipeline.config import RunConfig
from pipeline.dedup import normalize as norm
from pipeline.mme.build import PER_GOAL_TASK, certify, independent, verify
from pipeline.mme.context import SETTINGS, TokenCounter, image_tokens
from pipeline.mme.history import Window
from pipeline.mme.recheck import gold_problems
from pipeline.mme.tasks import ALIGN_CHOICES, ASPECT_OF, STYLE, TASKS, Draft, _object_phrase, personality_alignment, sentence_case
from pipeline.records import Evidence, parse_time
from pipeline.verbalize.voice import trait_counts
from pipeline.world.simulate import NUMBER_WORDS


def _index(part):
    return ({s.id: s for s in part.sessions}, {e.id: e for e in part.events}, {i.id: i for i in part.images},
            {f.id: f for e in part.events for f in e.facts})


def test_every_question_is_right_by_construction_and_by_text(bench_parts, small_cfg):
    bounds = {s.name: s for s in SETTINGS}
    counter = TokenCounter(None, small_cfg.image_size)
    n = 0
    for part in bench_parts:
        sessions, events, images, facts = _index(part)
        order = [s.id for s in part.sessions]
        for q in part.mme:
            n += 1
            history = [sessions[sid] for sid in q.history_sessions]
            # the history is a contiguous stretch of the real conversation, ending before the question
            first = order.index(q.history_sessions[0])
            assert q.history_sessions == order[first:first + len(history)]
            now = parse_time(q.time)
            assert parse_time(history[-1].end_time) + timedelta(minutes=60) < now
            if first + len(history) < len(order):
                assert now < parse_time(sessions[order[first + len(history)]].start_time)
            setting = bounds[q.setting]
            assert setting.min_turns <= q.context_turns == sum(len(s.turns) for s in history) // 2 <= setting.max_turns
            assert q.context_tokens == sum(counter.turn(t) for s in history for t in s.turns) <= setting.budget
            if first > 0:  # the longest history that fits: one more session would not
                earlier = part.sessions[first - 1].turns
                assert (q.context_tokens + sum(counter.turn(t) for t in earlier) > setting.budget
                        or q.context_turns + len(earlier) // 2 > setting.max_turns)
            # options: distinct, the key points at the answer, the query does not give it away
            texts = [c.text for c in q.choices]
            assert len({norm(t) for t in texts}) == len(texts) == (2 if q.task == "Personality Alignment" else 4)
            assert dict((c.key, c.text) for c in q.choices)[q.answer] == q.answer_text
            assert q.aspect == ASPECT_OF[q.task]
            if q.answer_text not in ALIGN_CHOICES:
                assert f" {norm(q.answer_text)} " not in f" {norm(q.query)} "
            # the evidence is in the history and carries the answer
            for ev in q.evidence:
                turn = next(t for t in sessions[ev.session_id].turns if t.index == ev.turn_index)
                assert ev.session_id in q.history_sessions and ev.fact_id in turn.fact_ids
                if ev.image_id and not q.answer_text.startswith("The one from"):
                    spec = images[ev.image_id].spec.objects
                    assert q.answer_text in {x for o in spec for x in (o.colour, o.name, f"{NUMBER_WORDS[o.count]} "
                                                                                          f"{_object_phrase(o)}")}
            assert q.certified, "every item is flip-certified"
            if q.alignment is not None:  # the user's own words show the pole the aligned reply is styled for
                trait, pole = next((t, k) for t, replies in STYLE.items() for k in (0, 1)
                                   if sentence_case(replies[k].format(item="{item}")).split("{item}")[-1] in q.alignment.chosen)
                said = "\n".join(t.text for s in history for t in s.turns if t.role == "user")
                shown, other = (trait_counts(said)[trait][k] for k in (1 - pole, pole))
                assert shown >= 3 and other == 0, (trait, pole, shown, other)
            if q.task in ("Latest Preference Recognition", "Implicit Preference Recommendation"):
                told = [facts[f] for s in history for t in s.turns if t.role == "user" for f in t.fact_ids]
                latest = [f.value for f in told if f.key == facts[q.evidence[0].fact_id].key][-1]
                assert q.answer_text == latest, "the answer is the latest value the history states"
    assert n >= 100


def test_tasks_and_settings_are_covered(bench_parts):
    seen = Counter((q.setting, q.task) for p in bench_parts for q in p.mme)
    assert {t for _, t in seen} >= set(TASKS) - {"Long-term Goal Tracking", "Tiered Explanation Delivery"}
    assert {s for s, _ in seen} == {"32k", "128k"}
    per_persona = Counter((p.persona.id, q.task) for p in bench_parts for q in p.mme)
    assert all(n <= PER_GOAL_TASK.get(task, n) for (_, task), n in per_persona.items())
    alignment = [q for p in bench_parts for q in p.mme if q.alignment is not None]
    assert Counter(q.answer for q in alignment) == {"(a)": len(alignment) // 2, "(b)": len(alignment) // 2}


def _window(part):
    _, events, images, _ = _index(part)
    return Window(part.persona, part.sessions[:6], parse_time(part.sessions[6].start_time) - timedelta(minutes=1),
                  events, images)


def _draft(task, w, lex, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return next(d for d in (TASKS[task](w, lex, rng) for _ in range(50)) if d is not None)


def test_verify_rejects_wrong_evidence_and_leaked_answers(bench_parts, lex):
    part = next(p for p in bench_parts if len(p.sessions) > 8)
    w = _window(part)
    d = _draft("Latest Preference Recognition", w, lex)
    assert verify(d, w) == []
    later = part.sessions[7]
    outside = Draft(**{**d.__dict__, "evidence": [Evidence(session_id=later.id, turn_index=0)]})
    assert "outside the history" in verify(outside, w)[0]
    assert "does not state" in verify(Draft(**{**d.__dict__, "stated": ("zebra-striped kayak",)}), w)[0]
    assert "contains its answer" in verify(Draft(**{**d.__dict__, "query": f"Is it {d.correct}?"}), w)[0]
    options = [d.correct, *d.distractors[:3]]
    assert verify(d, w, options) == []
    # a gold the history does not give (an earlier favourite) is caught
    assert "only right option" in verify(Draft(**{**d.__dict__, "correct": options[1]}), w, options)[0]


def test_a_photo_question_needs_the_photo(bench_parts, lex):
    part = next(p for p in bench_parts if len(p.sessions) > 8 and _window(p).image_turns)
    w = _window(part)
    d = _draft("Visual Detail Recall", w, lex)
    assert d.needs_image and verify(d, w) == []
    image = w.images[d.evidence[0].image_id]
    visual = [f.id for f in w.events[image.event_id].facts if f.kind == "visual"]
    # the assistant recalls the photo's contents in words in a later turn: the photo is no longer needed
    last = w.sessions[-1]
    told = last.model_copy(update={"turns": [*last.turns[:-1], last.turns[-1].model_copy(update={"fact_ids": visual[:1]})]})
    w2 = Window(w.persona, [*w.sessions[:-1], told], w.now, w.events, w.images)
    assert any("tells what photo" in p for p in verify(d, w2))


def test_the_certificate_fails_a_gold_that_does_not_follow_the_evidence(bench_parts, lex):
    part = next(p for p in bench_parts if len(p.sessions) > 8)
    w = _window(part)
    for task in ("Latest Preference Recognition", "Relationship Recognition", "Generalizing to New Scenarios"):
        d = _draft(task, w, lex)
        options = [d.correct, *[x for x in d.distractors if x != d.correct][:3]]
        assert certify(d, w, options) is True, task
        # a gold read from somewhere other than the history (e.g. the card) does not follow the flip
        frozen = Draft(**{**d.__dict__, "gold": lambda v, o, c=d.correct: c})
        assert certify(frozen, w, options) is False, task


def test_every_reason_a_goal_is_given_up_for_can_be_a_certified_gold(bench_parts, lex):
    """A reason the certificate cannot flip would be shown as a distractor but never be right (three of the
    lexicon's reasons start with "I", and a flip once capitalised the reason put in their place)."""
    import numpy as np

    from pipeline.mme.tasks import _abandon_reason

    def whole(p):  # the persona's whole history, asked two hours after its last session
        return Window(p.persona, p.sessions, parse_time(p.sessions[-1].end_time) + timedelta(hours=2), *_index(p)[1:3])

    w, told = next((w, x) for w in map(whole, bench_parts) for x in w.of_kind("goal_outcome")
                   if x.fact.value.startswith("abandoned: "))
    why = told.fact.text.split(" because ", 1)[1].rstrip(".")
    assert any(r[:2] == "I " for r in lex.abandon_reasons)
    for reason in lex.abandon_reasons:
        v = w.flipped([told.fact.id], {why: reason}) if reason != why else w
        x = next(y for y in v.told if y.fact.id == told.fact.id)
        d = _abandon_reason(x, lex, np.random.default_rng(0))
        options = [d.correct, *d.distractors[:3]]
        assert d.correct == reason and not verify(d, v, options) and certify(d, v, options), reason


def test_alignment_gold_is_the_trait_the_history_shows_and_follows_a_restyled_history(bench_parts, lex):
    import numpy as np

    drafts = []
    for part in bench_parts:
        w = Window(part.persona, part.sessions, parse_time(part.sessions[-1].end_time) + timedelta(hours=2),
                   {e.id: e for e in part.events}, {i.id: i for i in part.images})
        rng = np.random.default_rng(0)
        drafts += [(w, d) for d in (personality_alignment(w, lex, rng) for _ in range(40)) if d is not None]
    assert len(drafts) >= 10
    for w, d in drafts:
        if d.gold(w, list(ALIGN_CHOICES)) != ALIGN_CHOICES[0]:
            continue  # the history does not show the trait: the build rejects the draft
        assert certify(d, w, list(ALIGN_CHOICES)) is True
        flipped, target = d.flip(w, list(ALIGN_CHOICES))
        assert target == ALIGN_CHOICES[1] and flipped.user_text() != w.user_text()
    # a history whose words show no trait has no alignment gold: the draft is rejected, not shipped on the card's word
    w, d = drafts[0]
    plain = w._rebuilt(dict(w.events), lambda t: t.model_copy(update={"text": "..."}) if t.role == "user" else t)
    assert d.gold(plain, list(ALIGN_CHOICES)) is None and verify(d, plain, list(ALIGN_CHOICES))
    assert certify(d, plain, list(ALIGN_CHOICES)) is False


def test_no_item_gives_away_another_items_answer(bench_parts):
    fixed = {"Visual Detail Recall", "Long-term Goal Tracking", "Tiered Explanation Delivery",
             "Behavioral Pattern Recognition", "Personality Alignment", "Interest Evolution Analysis",
             "Relationship Dynamics Comprehension"}
    for part in bench_parts:
        for q in part.mme:
            if q.task in fixed:
                continue
            for other in part.mme:
                if other.id != q.id:
                    assert f" {norm(q.answer_text)} " not in f" {norm(other.query)} ", (q.task, q.answer_text, other.query)


def test_the_independence_check_leaves_out_the_item_that_names_others(bench_parts):
    """An item whose query names options of two others goes, not the two it names."""
    items = bench_parts[0].mme
    named = [q for q in items if q.task not in ("Personality Alignment", "Visual Detail Recall")][:2]
    namer = named[0].model_copy(update={
        "id": "namer", "task": "Visual Detail Recall",
        "query": f"Was it {named[0].choices[1].text} or {named[1].choices[2].text}?",
        "choices": [c.model_copy(update={"text": f"zq{i}"}) for i, c in enumerate(named[0].choices)]})
    kept, left_out = independent([*items, namer])
    assert left_out == 1 and [q.id for q in kept] == [q.id for q in items]


def test_alignment_items_come_in_an_order_and_with_ids_that_say_nothing(bench_parts):
    aligned_first = []
    for part in bench_parts:
        for setting in ("32k", "128k"):
            items = sorted((q for q in part.mme if q.alignment is not None and q.setting == setting), key=lambda q: q.id)
            for a, b in zip(items[::2], items[1::2]):
                if a.alignment == b.alignment:
                    aligned_first.append(a.answer == "(a)")
    assert len(aligned_first) >= 10
    assert 0.2 < sum(aligned_first) / len(aligned_first) < 0.8


def test_distractors_come_from_the_answers_class(bench_parts, lex):
    venues = {v for v in lex.places.venues}
    goals = {g.text for g in lex.goals}
    parts_of = {h.activity: h.part for h in lex.habits}
    for part in bench_parts:
        own_goals = {g.text for g in part.persona.goals}
        for q in part.mme:
            texts = [c.text for c in q.choices]
            if q.task == "Semantic Information Recall":
                place = next((v for v in venues if f" {v} " in q.query), None)
                if place and q.answer_text not in {p.name for p in part.persona.relationships}:
                    assert set(texts) <= set(lex.places.venues[place].activities), q.query
            if q.task == "Implicit Intent Recognition":
                assert set(texts) <= goals and set(texts) & own_goals == {q.answer_text}
            if q.task == "Behavioral Pattern Recognition":
                if texts[0].startswith("Every "):
                    assert len({t.split()[-1] for t in texts}) == 1, texts
                else:
                    assert len({parts_of[t] for t in texts}) == 1, texts
            if q.task == "Relationship Recognition":  # roles, never the user's people, whom other items name
                assert all(t.removeprefix("My ") in lex.relationships.roles for t in texts), texts
            if q.task == "Visual Detail Recall" and "how many" in q.query:
                assert all(len(t.split()) >= 2 for t in texts), texts  # "three mugs", not "three"


def test_implicit_intent_asks_about_a_goal_under_way_or_one_achieved(bench_parts):
    """The gold is a goal the history leaves under way (its start told, no outcome) or one it says was completed,
    and the evidence is that start or that completion; both kinds are asked."""
    kinds = Counter()
    for part in bench_parts:
        sessions, _, _, facts = _index(part)
        for q in part.mme:
            if q.task != "Implicit Intent Recognition":
                continue
            evidence = facts[q.evidence[0].fact_id]
            told = {f for sid in q.history_sessions for t in sessions[sid].turns for f in t.fact_ids}
            outcomes = [facts[f] for f in told if facts[f].kind == "goal_outcome" and facts[f].key == evidence.key]
            if evidence.kind == "goal":
                assert evidence.value == f"working towards: {q.answer_text}" and not outcomes, q.id
            else:
                assert evidence.kind == "goal_outcome" and evidence.value == f"completed: {q.answer_text}", q.id
            kinds[evidence.kind] += 1
    assert kinds["goal"] > 0 and kinds["goal_outcome"] > 0, kinds


def test_a_real_tokenizer_counts_tokens_and_a_bad_path_says_what_to_do(tmp_path, bench_parts):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [t.text for p in bench_parts[:3] for s in p.sessions for t in s.turns]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(tmp_path / "tok")
    real, approx = TokenCounter(tmp_path / "tok", 320), TokenCounter(None, 320)
    turn = bench_parts[0].sessions[0].turns[0]
    assert real.name.startswith("tokenizer: tok") and real.turn(turn) != approx.turn(turn) > 0
    with pytest.raises(ValueError, match="mme_tokenizer"):
        TokenCounter(tmp_path / "missing", 320)


def test_image_tokens_match_the_qwen2_vl_processor():
    """The counter's image tokens equal the grid Qwen2-VL's own resize gives (14-pixel patches merged 2x2), plus
    the two vision markers, at the paper's 230,400 max pixels."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    for h, w in ((320, 320), (64, 64), (1024, 768), (2048, 2048), (333, 1000), (100, 3000)):
        rh, rw = smart_resize(h, w, factor=28, min_pixels=56 * 56, max_pixels=230_400)
        assert image_tokens(h, w) == (rh // 28) * (rw // 28) + 2, (h, w)
    assert TokenCounter(None, 320).image_tokens == 123


def test_a_habit_the_user_dropped_is_asked_about_in_the_past_tense(bench_parts):
    tenses = Counter()
    for part in bench_parts:
        sessions, _, _, facts = _index(part)
        rows = {s.id: s.model_dump() for s in part.sessions}
        fact_rows = {f: x.model_dump() for f, x in facts.items()}
        for q in part.mme:
            if q.task != "Behavioral Pattern Recognition":
                continue
            key = facts[q.evidence[0].fact_id].key
            told = {f for sid in q.history_sessions for t in sessions[sid].turns for f in t.fact_ids}
            dropped = any(facts[f].kind == "habit_end" and facts[f].key == key for f in told)
            assert ("did I use to" in q.query) == dropped and ("do I usually" in q.query) != dropped, q.query
            tenses[dropped] += 1
            # the run's audit sees a question in the wrong tense
            wrong = q.query.replace("did I use to", "do I usually") if dropped else q.query.replace("do I usually", "did I use to")
            assert gold_problems({**q.model_dump(), "query": wrong}, rows, fact_rows)
            assert not gold_problems(q.model_dump(), rows, fact_rows)
    assert tenses[True] > 0 and tenses[False] > 0, tenses


def test_each_setting_has_its_cases_at_successive_moments(bench_parts):
    n = RunConfig.model_fields["mme_cases"].default
    for part in bench_parts:
        for setting in ("32k", "128k"):
            cases = sorted({(q.time, tuple(q.history_sessions)) for q in part.mme if q.setting == setting})
            assert 1 <= len(cases) <= n
            times = [t for t, _ in cases]
            assert len(set(times)) == len(times), "one moment per case"
            ends = [h[-1] for _, h in cases]
            assert ends == sorted(ends) and len(set(ends)) == len(ends)
    assert any(len({q.time for q in p.mme if q.setting == "32k"}) == n for p in bench_parts)
