from __future__ import annotations

from pipeline.mme.bias import audit_run
from pipeline.mme.recheck import gold_problems, recheck


def _tables(parts):
    rows = [q.model_dump() for p in parts for q in p.mme]
    sessions = {s.id: s.model_dump() for p in parts for s in p.sessions}
    facts = {f.id: f.model_dump() for p in parts for e in p.events for f in e.facts}
    return rows, sessions, facts


def test_every_built_gold_passes_the_audits_own_check(bench_parts):
    rows, sessions, facts = _tables(bench_parts)
    figures, failed = recheck(rows, sessions, facts)
    assert figures["checked"] == len(rows) > 100
    assert figures["wrong_or_not_unique"] == 0 and failed == [], figures["examples"]


def test_the_check_catches_wrong_keys_evidence_and_stale_states(bench_parts):
    rows, sessions, facts = _tables(bench_parts)
    q = next(r for r in rows if r["task"] == "Semantic Information Recall")
    other = next(c for c in q["choices"] if c["key"] != q["answer"])
    assert "does not point at the answer text" in gold_problems({**q, "answer": other["key"]}, sessions, facts)[0]
    assert "same text" in gold_problems({**q, "choices": [{**c, "text": "x"} for c in q["choices"]]}, sessions, facts)[0]
    assert "not in the history" in gold_problems({**q, "history_sessions": []}, sessions, facts)[-1]
    assert "not before the question" in gold_problems({**q, "time": "2000-01-01 00:00"}, sessions, facts)[0]
    # a favourite that a later turn of the history replaces is not the answer
    for r in rows:
        if r["task"] != "Latest Preference Recognition":
            continue
        key = facts[r["evidence"][0]["fact_id"]]["key"]
        told = [(t["time"], fid, s["id"], t["index"]) for sid in r["history_sessions"] for s in [sessions[sid]]
                for t in s["turns"] if t["role"] == "user" for fid in t["fact_ids"] if facts[fid]["key"] == key]
        earlier = [x for x in sorted(told) if facts[x[1]]["value"] != r["answer_text"]]
        if earlier:
            _, fid, sid, index = earlier[-1]
            stale = {**r, "evidence": [{"session_id": sid, "turn_index": index, "fact_id": fid, "image_id": None}],
                     "answer_text": facts[fid]["value"]}
            stale["choices"] = [{**c, "text": facts[fid]["value"]} if c["key"] == r["answer"] else c for c in r["choices"]]
            assert "not the latest state" in " ".join(gold_problems(stale, sessions, facts))
            break
    else:
        raise AssertionError("no preference question with an earlier favourite in its history")


def test_the_run_audit_reports_the_check_and_drops_what_fails(bench_run, bench_parts, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    from pipeline.parts import part_dir

    run = tmp_path / "run"
    shutil.copytree(bench_run, run)
    pid = bench_parts[0].persona.id
    path = part_dir(run, pid) / "persona_mme.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["answer_text"] = "something else"  # a gold that no longer matches its key
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), path)
    audit, drops = audit_run(run, [p.persona.id for p in bench_parts], 0)
    assert audit["gold_check"]["wrong_or_not_unique"] == 1 and rows[0]["id"] in drops
    assert audit["gold_check"]["checked"] == sum(len(p.mme) for p in bench_parts)
