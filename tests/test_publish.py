"""Publishing through an injected client that records what HfApi would be asked to do (no network)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pytest
from huggingface_hub.errors import RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile

from pipeline.atomic import write_json
from pipeline.card import build_card
from pipeline.parts import sha256_file, write_part
from pipeline.publish import PublishError, publish
from pipeline.report.build import build_report
from pipeline.run import make_manifest
from pipeline.shards import write_shards
from pipeline.stages import Generated

TOKEN = "hf_secretTOKEN123456"


class RecordingHub:
    """Keeps a fake remote repo in memory and applies upload_folder to it."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.calls: list[tuple[str, dict]] = []

    def list_repo_tree(self, repo_id, repo_type=None, revision=None, recursive=False):
        if not self.files:
            import httpx2

            request = httpx2.Request("GET", "http://127.0.0.1/api/datasets/x/tree")
            raise RepositoryNotFoundError("no such repo", response=httpx2.Response(404, request=request))
        for path, data in self.files.items():
            lfs = {"size": len(data), "oid": hashlib.sha256(data).hexdigest(), "pointerSize": 130} if path.endswith(".parquet") else None
            oid = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            yield RepoFile(path=path, size=len(data), oid=oid, lfs=lfs)

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kw}))

    def upload_folder(self, *, repo_id, folder_path, allow_patterns, delete_patterns, commit_message, **kw):
        self.calls.append(("upload_folder", {"allow": list(allow_patterns), "delete": list(delete_patterns or []),
                                             "message": commit_message}))
        for p in delete_patterns or []:
            self.files.pop(p, None)
        for p in allow_patterns:
            with open(f"{folder_path}/{p}", "rb") as f:
                self.files[p] = f.read()


def _finish(run_dir, parts, cfg):
    for p in parts:
        write_part(run_dir, p, "fp")
    shards = write_shards(run_dir, [p.persona.id for p in parts], 0.1)
    stats = build_report(run_dir)
    manifest = make_manifest(cfg, shards, stats, Generated(), {})
    (run_dir / "README.md").write_text(build_card(run_dir, manifest, "cc-by-4.0"))
    manifest["card_sha256"] = sha256_file(run_dir / "README.md")
    write_json(run_dir / "manifest.json", manifest)


@pytest.fixture(scope="module")
def finished(tmp_path_factory, small_parts, small_cfg):
    path = tmp_path_factory.mktemp("published") / "run"
    _finish(path, small_parts, small_cfg)
    return path


@pytest.fixture()
def run_dir(tmp_path, finished):
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


def test_publish_uploads_once_then_nothing_then_replaces_stale_shards(run_dir, small_parts, small_cfg, capsys):
    hub = RecordingHub()
    plan = publish(run_dir, "org/persona-data", TOKEN, private=True, api=hub)
    assert hub.calls[0] == ("create_repo", {"repo_id": "org/persona-data", "repo_type": "dataset", "private": True,
                                            "exist_ok": True})
    uploaded = set(hub.calls[1][1]["allow"])
    assert {"README.md", "manifest.json"} <= uploaded and any(p.startswith("data/images/train-") for p in uploaded)
    assert plan["commit_message"].startswith("PersonaForge run")
    n_calls = len(hub.calls)

    assert publish(run_dir, "org/persona-data", TOKEN, api=hub)["upload"] == []  # unchanged: nothing new
    assert len(hub.calls) == n_calls

    # the same run rebuilt with fewer personas: fewer image shards; the old ones must go
    shutil.rmtree(run_dir)
    _finish(run_dir, small_parts[:3], small_cfg)
    plan = publish(run_dir, "org/persona-data", TOKEN, api=hub)
    assert plan["delete"] and all(p.startswith("data/") for p in plan["delete"])
    local = {str(p.relative_to(run_dir)) for p in (run_dir / "data").rglob("*.parquet")}
    assert {p for p in hub.files if p.startswith("data/")} == local
    assert TOKEN not in capsys.readouterr().out + json.dumps(hub.calls)
    assert not [p for p in run_dir.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


def test_dry_run_prints_the_plan_and_uploads_nothing(run_dir, capsys):
    hub = RecordingHub()
    plan = publish(run_dir, "org/x", None, dry_run=True, api=hub)
    out = capsys.readouterr().out
    assert "would publish" in out and "commit message:" in out and re.search(r"upload data/sessions/train-00000-of-\d{5}\.parquet", out)
    assert hub.calls == [] and plan["upload"]


@pytest.mark.parametrize("repo_id", ["noslash", "org/name/extra", "../etc", "org/../x", "/abs", "org/"])
def test_bad_repo_ids(run_dir, repo_id):
    with pytest.raises(PublishError, match="namespace/name"):
        publish(run_dir, repo_id, TOKEN, api=RecordingHub())


def test_unfinished_or_tampered_runs_and_missing_token(run_dir, tmp_path, monkeypatch):
    with pytest.raises(PublishError, match="no Hugging Face token"):
        publish(run_dir, "org/x", None)
    shard = next((run_dir / "data" / "sessions").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(PublishError, match="checksum"):
        publish(run_dir, "org/x", TOKEN, api=RecordingHub())
    (tmp_path / "empty").mkdir()
    with pytest.raises(PublishError, match="not a finished run"):
        publish(tmp_path / "empty", "org/x", TOKEN, api=RecordingHub())


def test_cli_exit_codes(run_dir, monkeypatch, capsys):
    from pipeline.__main__ import main

    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["publish", str(run_dir), "--repo-id", "bad id"]) == 2
    assert main(["publish", str(run_dir), "--repo-id", "org/x"]) == 2
    assert "HF_TOKEN" in capsys.readouterr().err
