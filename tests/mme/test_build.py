from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from pipeline.dedup import normalize as norm
from pipeline.mme.build import SETTINGS, verify
from pipeline.mme.context import TokenCounter
from pipeline.mme.history import Window
from pipeline.mme.tasks import ALIGN_CHOICES, ASPECT_OF, TASKS, Draft
from pipeline.records import Evidence, parse_time


def _index(part):
    return ({s.id: s for s in part.sessions}, {e.id: e for e in part.events}, {i.id: i for i in part.images},
            {f.id: f for e in part.events for f in e.facts})


def test_every_question_is_right_by_construction_and_by_text(bench_parts):
    bounds = {s.name: s for s in SETTINGS}
    counter = TokenCounter(None, 320)
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
            lo, hi = bounds[q.setting].turns
            assert lo <= q.context_turns == sum(len(s.turns) for s in history) <= hi
            assert q.context_tokens == sum(counter.turn(t) for s in history for t in s.turns)
            if q.setting == "128k":
                assert parse_time(history[-1].end_time) - parse_time(history[0].start_time) <= timedelta(days=92)
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
                if ev.image_id:
                    obj = next(o for o in images[ev.image_id].spec.objects if norm(o.name) in norm(q.query)
                               or norm(o.name) + "s" in norm(q.query) or norm(o.name)[:-1] in norm(q.query))
                    assert q.answer_text in (obj.colour, ("zero", "one", "two", "three", "four")[obj.count])
            if q.task in ("Latest Preference Recognition", "Implicit Preference Recommendation"):
                told = [facts[f] for s in history for t in s.turns if t.role == "user" for f in t.fact_ids]
                latest = [f.value for f in told if f.key == facts[q.evidence[0].fact_id].key][-1]
                assert q.answer_text == latest, "the answer is the latest value the history states"
    assert n >= 100


def test_tasks_and_settings_are_covered(bench_parts):
    seen = Counter((q.setting, q.task) for p in bench_parts for q in p.mme)
    assert {t for _, t in seen} >= set(TASKS) - {"Long-term Goal Tracking", "Tiered Explanation Delivery"}
    assert {s for s, _ in seen} == {"32k", "128k"}
    alignment = [q for p in bench_parts for q in p.mme if q.alignment is not None]
    assert Counter(q.answer for q in alignment) == {"(a)": len(alignment) // 2, "(b)": len(alignment) // 2}


def test_verify_rejects_wrong_evidence_and_leaked_answers(bench_parts, lex):
    import numpy as np

    part = next(p for p in bench_parts if len(p.sessions) > 8)
    sessions, events, images, _ = _index(part)
    w = Window(part.persona, part.sessions[:6], parse_time(part.sessions[6].start_time) - timedelta(minutes=1),
               events, images)
    rng = np.random.default_rng(0)
    d = next(d for d in (TASKS["Latest Preference Recognition"](w, lex, rng) for _ in range(5)) if d is not None)
    assert verify(d, w) == []
    later = part.sessions[7]
    outside = Draft(**{**d.__dict__, "evidence": [Evidence(session_id=later.id, turn_index=0)]})
    assert "outside the history" in verify(outside, w)[0]
    assert "does not state" in verify(Draft(**{**d.__dict__, "stated": "zebra-striped kayak"}), w)[0]
    assert "contains its answer" in verify(Draft(**{**d.__dict__, "query": f"Is it {d.correct}?"}), w)[0]
    shown = [(s, t, im) for s, t, im in w.image_turns]
    if shown:
        s, t, im = shown[0]
        obj = im.spec.objects[0]
        wrong = "purple" if obj.colour != "purple" else "teal"
        visual = Draft(query="what colour was it?", correct=wrong, distractors=[], evidence=[
            Evidence(session_id=s.id, turn_index=t.index, image_id=im.id)], extra={"object": obj.name, "colour": wrong})
        assert "does not hold" in verify(visual, w)[0]


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
