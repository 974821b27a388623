"""Publish a finished run to a Hugging Face dataset repo.

`python -m pipeline publish outputs/<run> --repo-id org/name [--private] [--revision main] [--token T] [--dry-run]`

Uploads the card, the manifest and the shards with `huggingface_hub` (`create_repo(exist_ok=True)`,
then `upload_folder`, which splits large uploads into several commits and resumes). Only files whose
content differs from the remote are uploaded, and remote shards the run no longer has are deleted
in the same commit, so re-publishing an unchanged run uploads nothing and a changed run leaves no
stale shards. The token comes from `--token` or `HF_TOKEN` and is never printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.cli import parser
from pipeline.parts import sha256_file

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class PublishError(ValueError):
    """Why a run cannot be published, and what to do."""


def check_repo_id(repo_id: str) -> None:
    if not REPO_ID.match(repo_id) or ".." in repo_id:
        raise PublishError(f"repo id {repo_id!r} is not 'namespace/name' (letters, digits, '.', '_', '-'; "
                           "exactly one '/', no path)")


def run_files(run_dir: Path) -> dict[str, str]:
    """The files to publish with their SHA-256, after checking the run is finished and intact."""
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.exists():
        raise PublishError(f"{run_dir} is not a finished run (no manifest.json); run pipeline/run.py to the end first")
    manifest = json.loads(manifest_path.read_text())
    files = {"manifest.json": sha256_file(manifest_path)}
    card = run_dir / "README.md"
    if not card.exists() or sha256_file(card) != manifest.get("card_sha256"):
        raise PublishError(f"{card} is missing or differs from the one the manifest records; rerun the run to rewrite it")
    files["README.md"] = manifest["card_sha256"]
    for f in manifest["files"]:
        path = run_dir / f["path"]
        if not path.exists() or path.stat().st_size != f["bytes"] or sha256_file(path) != f["sha256"]:
            raise PublishError(f"{path} is missing or does not match its checksum in the manifest; "
                               "rerun the same command to rebuild the shards")
        files[f["path"]] = f["sha256"]
    return files


def _git_sha1(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def remote_files(api, repo_id: str, revision: str) -> dict[str, tuple[str, str]]:
    """path -> ('sha256', hex) for LFS files, ('git', oid) for the others; {} for a repo that does not exist yet."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        items = list(api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True))
    except (RepositoryNotFoundError, RevisionNotFoundError):
        return {}
    return {i.path: ("sha256", i.lfs.sha256) if i.lfs else ("git", i.blob_id) for i in items if hasattr(i, "blob_id")}


def plan_upload(run_dir: Path, local: dict[str, str], remote: dict[str, tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(files to upload, remote files to delete): changed or new files, and shards the run no longer has."""
    changed = []
    for path, sha in sorted(local.items()):
        kind, oid = remote.get(path, ("", ""))
        same = (kind == "sha256" and oid == sha) or (kind == "git" and oid == _git_sha1(run_dir / path))
        if not same:
            changed.append(path)
    stale = sorted(p for p in remote if p.startswith("data/") and p not in local)
    return changed, stale


def publish(run_dir: Path, repo_id: str, token: str | None, *, private: bool = False, revision: str = "main",
            dry_run: bool = False, api=None, say: Callable[[str], None] = print) -> dict:
    check_repo_id(repo_id)
    local = run_files(run_dir)
    if api is None:
        if not token and not dry_run:
            raise PublishError("no Hugging Face token: set HF_TOKEN or pass --token")
        from huggingface_hub import HfApi

        api = HfApi(token=token or None)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    try:
        remote = remote_files(api, repo_id, revision)
    except Exception as e:  # a dry run without access still shows the full plan
        if not dry_run:
            raise
        say(f"(remote state unknown: {type(e).__name__}; listing every file)")
        remote = {}
    changed, stale = plan_upload(run_dir, local, remote)
    message = (f"PersonaForge run {manifest['run_name']} (seed {manifest['seed']}): "
               f"{len(changed)} file(s) updated, {len(stale)} removed")
    say(f"{'would publish' if dry_run else 'publishing'} {run_dir} -> datasets/{repo_id}@{revision}"
        f"{' (private)' if private else ''}\ncommit message: {message}")
    for p in changed:
        say(f"  upload {p} ({(run_dir / p).stat().st_size:,} bytes)")
    for p in stale:
        say(f"  delete {p}")
    plan = {"upload": changed, "delete": stale, "commit_message": message}
    if dry_run:
        return plan
    if not changed and not stale:
        say("remote is up to date; nothing to upload")
        return plan
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(run_dir), revision=revision,
                      allow_patterns=changed or ["manifest.json"], delete_patterns=stale or None, commit_message=message)
    say("done")
    return plan


def main(argv: list[str] | None = None) -> int:
    ap = parser("python -m pipeline publish", "Publish a finished run to the Hugging Face Hub.")
    ap.add_argument("run_dir", type=Path, help="outputs/<run>")
    ap.add_argument("--repo-id", required=True, help="namespace/name of the dataset repo")
    ap.add_argument("--private", action="store_true", help="create the repo as private")
    ap.add_argument("--revision", default="main", help="branch to commit to (default: main)")
    ap.add_argument("--token", default=None, help="Hugging Face token (default: $HF_TOKEN)")
    ap.add_argument("--dry-run", action="store_true", help="print what would be uploaded, upload nothing")
    args = ap.parse_args(argv)
    try:
        publish(args.run_dir, args.repo_id, args.token or os.environ.get("HF_TOKEN"), private=args.private,
                revision=args.revision, dry_run=args.dry_run)
    except PublishError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
