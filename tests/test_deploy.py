"""docs/deploy.md and deploy/: the Kubernetes manifests are valid (kubernetes-validate, strict, offline), the
router's nginx.conf in them and the one the guide shows are what ``nginx_conf`` makes, and Debian's nginx
accepts the guide's. The configuration running for real is tests/test_serve_replicas.py's."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mcp_kernel.serve.replica import nginx_conf

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes" / "mcp-kernel.yaml"
GUIDE = ROOT / "docs" / "deploy.md"
LOOPBACK = {"r1": "127.0.0.1:8001", "r2": "127.0.0.1:8002"}


def documents() -> list[dict]:
    return [doc for doc in yaml.safe_load_all(MANIFESTS.read_text()) if doc]


def test_the_manifests_are_valid_kubernetes() -> None:
    import kubernetes_validate

    kinds = []
    for doc in documents():
        kubernetes_validate.validate(doc, "1.30", strict=True)
        kinds.append(doc["kind"])
    assert {"StatefulSet", "Service", "PersistentVolumeClaim", "Deployment", "Ingress"} <= set(kinds)
    bad = next(doc for doc in documents() if doc["kind"] == "StatefulSet")
    bad["spec"]["replica"] = 2  # a misspelt field: the check is strict
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.30", strict=True)


def test_the_router_sends_each_replica_its_own_sessions() -> None:
    docs = {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents()}
    serve = docs["StatefulSet", "mcp-kernel-serve"]
    name, count = serve["metadata"]["name"], serve["spec"]["replicas"]
    replicas = {f"{name}-{i}": f"{name}-{i}.{serve['spec']['serviceName']}:8000" for i in range(count)}
    router = docs["ConfigMap", "mcp-kernel-router"]["data"]["nginx.conf"]
    assert router == nginx_conf(8080, replicas, resolver="kube-dns.kube-system.svc.cluster.local")
    parked = next(
        m for m in serve["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] if m["name"] == "parked"
    )
    assert f"--park-dir={parked['mountPath']}" in serve["spec"]["template"]["spec"]["containers"][0]["args"]
    assert docs["PersistentVolumeClaim", "mcp-kernel-parked"]["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_guide_shows_the_configuration_nginx_accepts(tmp_path: Path) -> None:
    shown = re.search(r"```nginx\n(.*?)```", GUIDE.read_text(), re.S)
    assert shown is not None and shown.group(1) == nginx_conf(8080, LOOPBACK)
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.fail("nginx is not installed: .ci/run installs Debian's nginx (apt-get install nginx)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        shown.group(1).replace("http {", f"error_log {tmp_path}/error.log;\npid {tmp_path}/pid;\nhttp {{", 1)
    )
    check = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
