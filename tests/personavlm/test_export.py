"""`export personavlm` against the release's rules (tests/personavlm/release.py): every benchmark case loads,
replays only its past and scores; every SFT sample trains something and parses; every RL row earns the full
reward for an ideal completion and finds its user's memory store."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.__main__ import main as cli
from pipeline.personavlm import bench as bench_module
from pipeline.personavlm.export import export_personavlm
from pipeline.personavlm.protocol import PLACEHOLDERS, TemplateError, load_templates
from tests.conftest import write_run
from tests.personavlm import release as R


@pytest.fixture(scope="module")
def run(small_parts, tmp_path_factory):
    return write_run(small_parts, tmp_path_factory.mktemp("pv") / "run")


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("pv-out") / "personavlm"
    assert cli(["export", "personavlm", str(run), "--out", str(out)]) == 0
    return out


def _questions(root):
    return json.loads((root / "data" / "Persona-MME" / "Persona-MME.json").read_text())


def test_every_case_loads_replays_only_its_past_and_scores(exported):
    questions = _questions(exported)
    assert questions and all(q["type"] in R.ASPECTS for q in questions)
    asked = 0
    for setting in ("32k", "128k"):
        for user_path in R.eval_users(str(exported), setting):
            mine = [q for q in questions if os.path.join(user_path, "user_data.json") == q["data_path"]]
            assert mine, f"{user_path} has no questions"
            assert len({q["time"] for q in mine}) == 1, "one case, one moment"
            data, fed = R.replay(str(exported), user_path)
            # the agent's PROFILE: what the user said of themselves in their first session, nothing more
            assert set(data["profile"]) <= {"name", "age", "occupation", "location"}
            assert sum(e["user"].count("<img>") for s in data["sessions"] for e in s) == len(data["imgs"])
            assert all(isinstance(s, list) for s in data["sessions"]) and fed
            assert all(e["time"] < mine[0]["time"].split("(")[0].strip() for e in fed), "an exchange from the future"
            for q in mine:
                assert set(q["choices"]) == {"(a)", "(b)", "(c)", "(d)"}
                assert R.check_result(q["answer"], f"{q['answer']} {q['choices'][q['answer']]}")
                wrong = next(k for k in q["choices"] if k != q["answer"])
                assert not R.check_result(q["answer"], f"I think {wrong}")
            asked += len(mine)
    assert asked == len(questions), "every question is reached by eval.py's folder rules"
    carried = [q["alignment"] for q in questions if "alignment" in q]
    assert carried, "eval.py's evaluate() needs an alignment item"
    assert all(isinstance(a["chosen"], str) and isinstance(a["rejected"], str) and a["chosen"] != a["rejected"]
               for a in carried), "eval.py reads alignment['chosen'] and ['rejected'] of every item that has the key"
    assert not any(q["question_type"] == "Personality Alignment" for q in questions)


def test_more_cases_than_eval_reads_go_to_further_parts(run, tmp_path, monkeypatch):
    monkeypatch.setattr(bench_module, "PER_FOLDER", 1)  # one case per setting per tree
    monkeypatch.setattr(bench_module, "FOLDERS", {"32k": ("50",), "128k": ("200",)})
    counts = bench_module.export_benchmark(run, tmp_path)
    assert counts["parts"] == max(counts["cases"].values()) >= 2
    trees = [tmp_path, *(tmp_path / f"part-{k}" for k in range(2, counts["parts"] + 1))]
    assert all((tree / "data" / "Persona-MME" / "Persona-MME.json").exists() for tree in trees)
    assert sum(len(_questions(tree)) for tree in trees) == counts["questions"]
    for tree in trees:
        for q in _questions(tree):
            assert (tree / q["data_path"]).exists()


def _sft(root):
    return json.loads((root / "data" / "training" / "sft" / "personaforge_sft.json").read_text())


def test_every_sft_sample_is_supervised_and_its_target_parses(exported):
    samples = _sft(exported)
    tasks = {s["id"].split("/")[2] for s in samples}
    assert tasks == {"reasoning", "personality", "semantic", "episodic", "core", "procedural"}
    for s in samples:
        trained = R.supervised(s)
        assert trained and all(t.strip() for t in trained), s["id"]
        R.images_of(s, str(exported / "data" / "training" / "sft"))
        task, target, prompt = s["id"].split("/")[2], trained[0], s["conversations"][0]["value"]
        if task == "personality":
            R.parse_personality(target)
        elif task == "semantic":
            mem = R.parse_semantic(target)
            assert bool(mem["content"]) == mem["decision"]
            if "(image object:" in mem["content"].lower():
                assert "image" in s, "a photo's object memory carries the photo"
        elif task == "episodic":
            rounds = prompt.count(" of dialogues\nTime: ")
            topics = R.parse_topics(target, rounds)
            assert {i for t in topics for i in t["source_dialog_indices"]} == set(range(rounds)), "every round in a topic"
        elif task == "core":
            profile = R.parse_profile(target, "x")
            assert len(profile) == target.count("\n") + 1, "a value the parser cuts short"
        elif task == "procedural":
            entries = R.parse_procedural(target)
            assert len(entries) <= 5 and len(entries) == len([ln for ln in target.split("\n") if ln])
            assert all(v.endswith(".") for v in entries.values()), "a value cut at a colon"
        else:
            steps = [R.parse_reasoning(t) for t in trained]
            assert steps[-1]["action"] == "answer" and steps[-1]["response"]
            for step in steps[:-1]:
                assert step["action"] == "retrieve" and "[" not in step["keywords"]
                assert step["start_time"] or step["raw_times"][0] == "null"
            assert "Openness:" in prompt and "Recent Conversations:" in prompt


def test_targets_are_learnable_from_their_input(exported):
    report = json.loads((exported / "export_report.json").read_text())["training"]
    assert report["audit_targets"] > 100 and report["audit_targets_unsupported"] == 0
    assert report["audit_photo_samples"] > 0 and report["audit_photo_samples_without_photo"] == 0
    assert report["audit_rl_choice_prompts"] > 0 and report["audit_rl_matchable"] / report["audit_rl_choice_prompts"] < 0.1
    for s in _sft(exported):
        if s["id"].split("/")[2] == "episodic":
            for topic in R.parse_topics(R.supervised(s)[0], 10**6):
                assert not {"I", "my", "me", "we"} & set(topic["topic_summary"].split()), topic


def test_every_rl_row_rewards_an_ideal_completion_and_finds_its_store(exported):
    rl = exported / "data" / "training" / "rl"
    rows = [json.loads(line) for line in (rl / "rl.jsonl").read_text().splitlines()]
    users = json.loads((rl / "USER_PATH_DICT.json").read_text())
    assert rows
    for row in rows:
        gold = row["messages"][-1]["content"]
        answer = f"{gold} {row['choices'][gold]}" if row["choices"] else gold
        ideal = f"<think>The retrieved memory says so.</think><answer>{answer}</answer>"
        assert R.reward(ideal, row) == 1.5
        assert R.reward(ideal.replace("</think><answer>", "</think>\n<answer>"), row) == 1.0
        time, query = R.rl_query(row)
        assert R.valid_time(time) and ("\\nOptions:\\n" in query) == bool(row["choices"])
        assert row["messages"][0]["content"].count("<image>") == len(row.get("images", []))
        store = exported / users[row["messages"][0]["content"]]
        data = json.loads((store / "user_data.json").read_text())
        assert {"init_profile", "imgs", "big_five_personality", "current_interactions", "sessions"} <= set(data)
        assert [f for f in os.listdir(store) if f.endswith(".json") and f.split(".")[0].isdigit()]
        for sess in data["sessions"]:
            assert {"profile", "ProceduralMemory", "semantic_memory", "interactions"} <= set(sess)
            assert len(sess["semantic_memory"]) == len(sess["interactions"])
            for query, response, chain, imgs in sess["interactions"]:
                assert query["query"].count("<img_fill>") == len(imgs)
                assert all((exported / p).exists() for p in imgs)


def test_a_users_copy_of_the_release_prompts_is_used_verbatim(run, tmp_path):
    prompts = tmp_path / "prompts.py"
    R.write_prompts(prompts, PLACEHOLDERS)
    templates = load_templates(prompts)
    assert templates["MLLM_REASONING_PROMPT_MID"].startswith("RELEASE MLLM_REASONING_PROMPT_MID")
    export_personavlm(run, tmp_path / "out", prompts)
    firsts = {s["conversations"][0]["value"].split(" ", 2)[1] for s in _sft(tmp_path / "out")}
    assert firsts <= set(PLACEHOLDERS) and len(firsts) >= 6

    prompts.write_text(prompts.read_text().replace("{DialogHistory}", ""))
    with pytest.raises(TemplateError, match="lacks the placeholder"):
        load_templates(prompts)


def test_bad_input_is_refused_and_leaves_the_previous_export(run, exported, tmp_path, capsys):
    assert cli(["export", "personavlm", str(tmp_path / "nothing")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    before = (exported / "export_report.json").read_bytes()
    bad = tmp_path / "prompts.py"
    bad.write_text("X = 1\n")
    assert cli(["export", "personavlm", str(run), "--out", str(exported), "--prompts", str(bad)]) == 2
    assert "defines no string constant" in capsys.readouterr().err
    assert (exported / "export_report.json").read_bytes() == before


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("abcdABCD() .\n:xyz"), max_size=12), st.sampled_from(["(a)", "(b)", "(c)", "(d)"]))
def test_our_evaluator_reads_a_reply_as_the_release_does(reply, answer):
    """`mme eval` scores a reply right exactly when eval.py's check_result does (where eval.py does not crash)."""
    from pipeline.labels.reward import option_letter

    if not reply or reply.startswith(")"):  # eval.py raises on these; ours counts them wrong
        assert option_letter(reply) is None
        return
    assert (option_letter(reply) == answer) == R.check_result(answer, reply)


def test_a_quarantined_persona_is_counted_not_exported(small_parts, tmp_path):
    from pipeline.parts import write_part
    from pipeline.personavlm.export import export_training, load_persona, run_config
    from pipeline.records import Quarantine

    part = next(p for p in small_parts if p.persona.split == "train")
    held = Quarantine(persona_id=part.persona.id, split="train", session_id=part.sessions[0].id, reason="test", attempts=1)
    write_part(tmp_path / "run", part.model_copy(update={"quarantine": [held]}), "fp")
    assert load_persona(tmp_path / "run", part.persona.id) is None
    counts = export_training(tmp_path / "run", tmp_path / "out", run_config(tmp_path / "run"), None)
    assert counts["personas_quarantined"] == 1 and counts["sft_samples"] == 0
