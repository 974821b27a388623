"""Benchmark: `export personavlm` on a finished run, then the release's rules over everything it wrote.

Times the export and checks every benchmark case (eval.py's folder listing, replay of only the past,
the letter rule), every SFT sample (supervised tokens, image pairing, its target parsed by the agent's
parser) and every RL row (reward 1.5 for an ideal completion, its store found), with the rules of
tests/personavlm/release.py. Prints the counts and every failure. Usage:

    python bench/default_run.py --out /tmp/pfd && python bench/personavlm_export.py /tmp/pfd/p500-b200-m3-s0
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.personavlm.export import export_personavlm  # noqa: E402
from tests.personavlm import release as R  # noqa: E402

PARSERS = {"personality": R.parse_personality, "semantic": R.parse_semantic, "core": lambda t: R.parse_profile(t, "x"),
           "procedural": R.parse_procedural, "reasoning": R.parse_reasoning}


def check(root: Path) -> Counter:
    c: Counter = Counter()
    for tree in [root, *sorted(root.glob("part-*"))]:  # every part is a complete tree eval.py runs on its own
        questions = json.loads((tree / "data/Persona-MME/Persona-MME.json").read_text())
        reached = 0
        for setting in ("32k", "128k"):
            for user in R.eval_users(str(tree), setting):
                mine = [q for q in questions if os.path.join(user, "user_data.json") == q["data_path"]]
                _, fed = R.replay(str(tree), user)
                c["cases"] += 1
                reached += len(mine)
                c["exchanges_after_their_question"] += sum(e["time"] >= q["time"] for q in mine for e in fed)
                c["gold_not_scored"] += sum(not R.check_result(q["answer"], f"{q['answer']} x") for q in mine)
        c["questions"] += len(questions)
        c["questions_unreached"] += len(questions) - reached
        c["trees_without_alignment"] += not any("alignment" in q for q in questions)
        c["alignment_items"] += sum("alignment" in q for q in questions)
        c["alignment_unreadable"] += sum(not (q["alignment"] or {}).get("chosen") for q in questions if "alignment" in q)
    sft_dir = root / "data/training/sft"
    for s in json.loads((sft_dir / "personaforge_sft.json").read_text()):
        task = s["id"].split("/")[2]
        c[f"sft_{task}"] += 1
        trained = R.supervised(s)
        c["sft_without_supervision"] += not trained
        R.images_of(s, str(sft_dir))
        try:
            if task == "episodic":
                R.parse_topics(trained[0], s["conversations"][0]["value"].count(" of dialogues\nTime: "))
            else:
                for t in trained if task == "reasoning" else trained[:1]:
                    PARSERS[task](t)
        except (AssertionError, IndexError, ValueError):
            c["sft_target_unparsed"] += 1
    rl_dir = root / "data/training/rl"
    users = json.loads((rl_dir / "USER_PATH_DICT.json").read_text())
    for line in (rl_dir / "rl.jsonl").read_text().splitlines():
        row = json.loads(line)
        gold = row["messages"][-1]["content"]
        answer = f"{gold} {row['choices'][gold]}" if row["choices"] else gold
        c["rl_rows"] += 1
        c["rl_reward_not_1.5"] += R.reward(f"<think>It says so.</think><answer>{answer}</answer>", row) != 1.5
        c["rl_store_missing"] += not (root / users[row["messages"][0]["content"]] / "user_data.json").exists()
    return c


def main() -> None:
    run = Path(sys.argv[1])
    out = run / "export" / "personavlm"
    t0 = time.perf_counter()
    report = export_personavlm(run, out)
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = check(out)
    checked = time.perf_counter() - t0
    print(f"export: {took:.1f} s ({report['benchmark']['cases']} cases in {report['benchmark']['parts']} part(s), "
          f"{report['training']['sft_samples']} SFT samples, {report['training']['rl_rows']} RL rows); checks {checked:.1f} s")
    train = report["training"]
    print(f"audit: {train['audit_targets_unsupported']}/{train['audit_targets']} targets with an id/time/number their input "
          f"lacks; {train['audit_photo_samples_without_photo']}/{train['audit_photo_samples']} photo samples without "
          f"the photo; {train['audit_rl_matchable']}/{train['audit_rl_choice_prompts']} choice prompts string-matchable")
    print(json.dumps(dict(sorted(counts.items())), indent=1))


if __name__ == "__main__":
    main()
