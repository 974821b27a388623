"""The cluster configs are valid for the tools that read them, and run what the README says."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from pipeline.config import REPO_ROOT


def test_cluster_launcher_config_passes_rays_own_validation():
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = yaml.safe_load((REPO_ROOT / "ray_cluster.yaml").read_text())
    validate_config(prepare_config(copy.deepcopy(config)))
    types = config["available_node_types"]
    assert types[config["head_node_type"]]["resources"]["CPU"] <= 2
    assert types["gpu_worker"]["resources"]["GPU"] >= 1 and types["cpu_worker"]["max_workers"] >= 1
    assert any("pip install" in c and "-e" in c for c in config["setup_commands"]), "nodes install the project"
    assert "." in config["file_mounts"].values()
    broken = copy.deepcopy(config)
    broken["available_node_types"]["cpu_worker"]["max_wrokers"] = 3
    with pytest.raises(Exception, match="max_wrokers"):
        validate_config(prepare_config(broken))


def test_kuberay_rayjob_manifest():
    import ray

    job = yaml.safe_load((REPO_ROOT / "kuberay" / "rayjob.yaml").read_text())
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    spec = job["spec"]
    assert "python pipeline/run.py" in spec["entrypoint"] and "pip install" in spec["entrypoint"]
    assert "working_dir" in yaml.safe_load(spec["runtimeEnvYAML"])
    cluster = spec["rayClusterSpec"]
    assert cluster["rayVersion"] == ray.__version__
    pods = [cluster["headGroupSpec"]["template"]] + [g["template"] for g in cluster["workerGroupSpecs"]]
    for pod in pods:
        for c in pod["spec"]["containers"]:
            assert re.fullmatch(rf"rayproject/ray:{re.escape(ray.__version__)}-py311-(cpu|gpu)", c["image"])
            assert {"cpu", "memory"} <= set(c["resources"]["limits"])
            assert any(m["mountPath"] == "/data" for m in c["volumeMounts"]), "parts live on storage every pod sees"
    gpu = next(g for g in cluster["workerGroupSpecs"] if g["groupName"] == "gpu")
    assert gpu["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    for g in cluster["workerGroupSpecs"]:
        assert g["minReplicas"] <= g["replicas"] <= g["maxReplicas"]
