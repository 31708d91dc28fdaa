"""The container and deploy files speak the gateway's language: the variables they set are ones
it reads, and the probes point at the routes that answer them."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT

VARIABLE = re.compile(r"\bJUMBE_[A-Z0-9_]+\b")
DEPLOY_FILES = [ROOT / "Dockerfile", *sorted((ROOT / "deploy").rglob("*.*"))]


def _read_by_gateway() -> set[str]:
    """Every JUMBE_* name the gateway's code mentions (settings, checks, the SMS/consent modes),
    and the build's own (setup.py: ``JUMBE_COMPILE``)."""
    names: set[str] = set()
    for path in [*(ROOT / "gateway").rglob("*.py"), ROOT / "setup.py"]:
        names.update(VARIABLE.findall(path.read_text()))
    # Per-purpose consent modes are built from the purpose names.
    names.update(f"JUMBE_CONSENT_MODE_{p}" for p in ("PROMO_SMS", "ADS", "SURVEYS"))
    return names


def test_every_variable_the_deploy_files_set_is_read_by_the_gateway() -> None:
    """A misspelled or retired JUMBE_* variable in a deploy file would silently do nothing."""
    known = _read_by_gateway()
    for path in DEPLOY_FILES:
        used = set(VARIABLE.findall(path.read_text()))
        assert used <= known, f"{path.relative_to(ROOT)}: unknown {sorted(used - known)}"


def test_probes_and_healthcheck_use_the_operator_routes() -> None:
    """Kubernetes routes traffic on /readyz and restarts on /healthz; the image checks /healthz."""
    deployment = yaml.safe_load((ROOT / "deploy/kubernetes/deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "/healthz" in dockerfile and re.search(r"^USER \d+:\d+$", dockerfile, re.M)


def test_compose_redis_keeps_an_append_only_file() -> None:
    """Redis is the system of record: compose runs it with AOF, fsynced every second."""
    compose = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    assert compose["services"]["gateway"]["env_file"] == ["jumbe.env"]
