from __future__ import annotations

import pytest

from pipeline.labels.reward import f_acc, f_cons, f_format, option_letter, reward
from pipeline.records import Choice, RlSample


def _mc() -> RlSample:
    return RlSample(id="x", persona_id="p", split="train", kind="multiple-choice", session_id="s", prompt=[], image_ids=[],
                    images=[], choices=[Choice(key=k, text=t) for k, t in zip(("(a)", "(b)", "(c)", "(d)"),
                                                                             ("red", "blue", "green", "pink"))],
                    reference="(c)", reference_text="green", evidence=["f"])


def _open() -> RlSample:
    return _mc().model_copy(update={"kind": "open", "choices": [], "reference": "Maple Park", "reference_text": "Maple Park"})


def test_format():
    assert f_format("<think>x</think><answer>(a)</answer>") == 1.0
    assert f_format("<think>x</think> <answer>(a)</answer>") == 0.0
    assert f_format("<answer>(a)</answer>") == 0.0
    assert f_format("<think>x</think><answer>(a)</answer> extra") == 0.0


def test_accuracy():
    assert option_letter("(c) Green") == "(c)" and option_letter("c)") == "(c)"
    # no ")": the release's eval reads the reply's last character
    assert option_letter("the answer is b") == "(b)" and option_letter("green") == "(n)"
    assert option_letter("") is None and option_letter(") b") is None
    assert f_acc("(c) green", _mc()) == 1.0 and f_acc("(b)", _mc()) == 0.0 and f_acc("green", _mc()) == 0.0
    assert f_acc("You went to the Maple Park.", _open()) == 1.0 and f_acc("Maple Cafe", _open()) == 0.0


def test_consistency():
    assert f_cons("The photo showed a green kite.", "(c)", _mc()) == 1.0
    assert f_cons("The photo showed a red kite.", "(c)", _mc()) == 0.0
    assert f_cons("Episode says Maple Park with Leo.", "Maple Park", _open()) == 1.0


@pytest.mark.parametrize("completion, total, acc, cons, fmt", [
    ("<think>It was green.</think><answer>(c)</answer>", 1.5, 1, 1, 1),
    ("<think>It was red.</think><answer>(c)</answer>", 0.5, 1, 0, 1),
    ("<think>It was blue.</think><answer>(b)</answer>", 0.5, 0, 1, 1),
    ("It was green. <answer>(c)</answer>", 0.0, 1, 0, 0),  # no <think>: nothing supports the answer
    ("<think>It was green.</think><answer>(c)", 0.0, 0, 0, 0),
])
def test_total(completion, total, acc, cons, fmt):
    r = reward(completion, _mc())
    assert (r.total, r.acc, r.cons, r.format) == (total, acc, cons, fmt)


def test_judges_replace_rules():
    r = reward("<think>whatever</think><answer>Maple Cafe</answer>", _open(),
               cons_judge=lambda *_: 0.7, acc_judge=lambda *_: 0.4)
    assert (r.acc, r.cons) == (0.4, 0.7) and r.total == pytest.approx(0.4 * 0.7 + 0.5)
