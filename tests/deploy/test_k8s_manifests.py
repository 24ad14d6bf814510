"""The Kubernetes manifests, checked offline as CI does: every province overlay builds with
`kubectl kustomize`; built-in kinds validate against Kubernetes' schemas (kubernetes-validate,
strict: unknown fields are errors); the operators' custom resources validate against their real
CRD schemas in ../shared/k8s-crds/, made strict the same way; and the platform's invariants hold
on the built output."""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy.crd_schema import strict

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
CRD_DIR = REPO.parent / "shared" / "k8s-crds"
# The oldest Kubernetes minor the manifests promise to work on.
KUBERNETES_VERSION = "1.30.0"
# The provinces whose stories the platform starts from; any other overlay is checked the same way.
FIRST_PROVINCES = {"can-tho", "lam-dong", "nghe-an", "quang-ngai", "thai-nguyen"}
PROVINCES = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
SERVICES = ("dossiers", "scoring", "notifications", "gateway")
QUEUE_CONSUMERS = {
    "dossiers": "dossiers.inbound",
    "scoring": "scoring.dossier-events",
    "notifications": "notifications.dossier-events",
}
CLUSTER_SCOPED = {"Namespace"}

Doc = dict[str, Any]


@functools.cache
def build(path: Path) -> tuple[Doc, ...]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to build the overlays (kubectl kustomize)"
    out = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, f"kubectl kustomize {path} failed:\n{out.stderr}"
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


@pytest.fixture(params=PROVINCES)
def province(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def docs(province: str) -> tuple[Doc, ...]:
    return build(K8S / "overlays" / province)


def of_kind(docs: tuple[Doc, ...], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: tuple[Doc, ...], kind: str, name: str) -> Doc:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_specs(docs: tuple[Doc, ...]) -> Iterator[tuple[str, Doc]]:
    for d in docs:
        if d["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            yield f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"]


def containers(spec: Doc) -> list[Doc]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# --- schemas ------------------------------------------------------------------------------


def is_custom(doc: Doc) -> bool:
    group = doc["apiVersion"].rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")




@functools.cache
def crd_schemas() -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) -> the strict openAPIV3Schema of that served version."""
    schemas: dict[tuple[str, str], Any] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served", True):
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    schemas[key] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def crd_errors(doc: Doc) -> list[str]:
    if not CRD_DIR.is_dir():
        pytest.skip(f"the operators' CRDs are not at {CRD_DIR} (../shared/k8s-crds beside the "
                    "repository): custom resources cannot be validated")
    schema = crd_schemas().get((doc["apiVersion"], doc["kind"]))
    if schema is None:
        return [f"{doc['kind']} {doc['apiVersion']}: no CRD for it in {CRD_DIR}"]
    validator = jsonschema.Draft7Validator(schema)
    return [f"{doc['kind']}/{doc['metadata']['name']}: {'.'.join(map(str, e.absolute_path))}: "
            f"{e.message}" for e in validator.iter_errors(doc)]


def builtin_errors(doc: Doc) -> list[str]:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
        return [f"{doc['kind']}/{doc['metadata'].get('name')}: {exc}"]
    return []


def test_the_first_provinces_each_have_an_overlay() -> None:
    assert set(PROVINCES) >= FIRST_PROVINCES


def test_builtin_kinds_validate_against_the_kubernetes_schemas(docs: tuple[Doc, ...]) -> None:
    builtin = [d for d in docs if not is_custom(d)]
    assert {d["kind"] for d in builtin} >= {"Deployment", "Service", "Job", "ConfigMap",
                                            "PodDisruptionBudget", "Ingress", "NetworkPolicy"}
    errors = [e for d in builtin for e in builtin_errors(d)]
    assert not errors, "\n".join(errors)


def test_custom_resources_validate_against_the_operators_crds(docs: tuple[Doc, ...]) -> None:
    custom = [d for d in docs if is_custom(d)]
    assert {d["kind"] for d in custom} == {"RabbitmqCluster", "Cluster", "ScaledObject",
                                           "TriggerAuthentication", "ServiceMonitor",
                                           "PodMonitor"}
    errors = [e for d in custom for e in crd_errors(d)]
    assert not errors, "\n".join(errors)


def test_the_validators_reject_a_misspelt_field() -> None:
    docs = build(K8S / "overlays" / PROVINCES[0])
    deployment = copy.deepcopy(of_kind(docs, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    assert builtin_errors(deployment)
    scaled = copy.deepcopy(of_kind(docs, "ScaledObject")[0])
    scaled["spec"]["maxReplicas"] = 3
    assert crd_errors(scaled)


# --- invariants on the built output ---------------------------------------------------------


def test_every_object_is_in_the_province_namespace(province: str, docs: tuple[Doc, ...]) -> None:
    namespace = f"parpulse-{province}"
    assert named(docs, "Namespace", namespace)
    wrong = [f"{d['kind']}/{d['metadata']['name']}" for d in docs
             if d["kind"] not in CLUSTER_SCOPED and d["metadata"].get("namespace") != namespace]
    assert not wrong, f"not in {namespace}: {wrong}"


def test_the_configuration_names_the_province(province: str, docs: tuple[Doc, ...]) -> None:
    (config,) = [c for c in of_kind(docs, "ConfigMap")
                 if c["metadata"]["name"].startswith("parpulse-config")]
    assert config["data"]["PROVINCE"] == province
    for where, spec in pod_specs(docs):
        for c in spec["containers"]:
            refs = [e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e]
            assert refs == [config["metadata"]["name"]], where


def test_every_deployment_container_has_probes(docs: tuple[Doc, ...]) -> None:
    for d in of_kind(docs, "Deployment"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            where = f"{d['metadata']['name']}/{c['name']}"
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", where
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", where
            ports = {p["name"] for p in c["ports"]}
            assert c["readinessProbe"]["httpGet"]["port"] in ports, where


def test_every_container_has_requests_and_limits(docs: tuple[Doc, ...]) -> None:
    for where, spec in pod_specs(docs):
        for c in containers(spec):
            for bound in ("requests", "limits"):
                assert set(c["resources"][bound]) >= {"cpu", "memory"}, f"{where}: {bound}"


def test_every_container_runs_locked_down_as_non_root(docs: tuple[Doc, ...]) -> None:
    for where, spec in pod_specs(docs):
        pod = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, where
        for c in containers(spec):
            sc = {**pod, **c.get("securityContext", {})}
            assert sc.get("runAsNonRoot") is True, where
            assert sc.get("runAsUser", 0) != 0, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where


def image_is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[1] not in ("", "latest")


def test_no_image_is_latest_or_untagged(docs: tuple[Doc, ...]) -> None:
    images = [c["image"] for _, spec in pod_specs(docs) for c in containers(spec)]
    images += [d["spec"]["image"] for d in of_kind(docs, "RabbitmqCluster")]
    images += [d["spec"]["imageName"] for d in of_kind(docs, "Cluster")]
    assert len(images) >= 10
    assert [i for i in images if not image_is_pinned(i)] == []
    assert image_is_pinned("registry.example:5000/parpulse:1.2.3")
    assert not image_is_pinned("registry.example:5000/parpulse")
    assert not image_is_pinned("parpulse:latest")


def test_pods_get_at_least_sixty_seconds_to_drain(docs: tuple[Doc, ...]) -> None:
    for d in of_kind(docs, "Deployment"):
        assert d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60


def test_every_deployment_has_a_disruption_budget(docs: tuple[Doc, ...]) -> None:
    budgets = of_kind(docs, "PodDisruptionBudget")
    for d in of_kind(docs, "Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert any(selects(b["spec"]["selector"]["matchLabels"], labels) for b in budgets), (
            d["metadata"]["name"])


def test_every_queue_consumer_scales_on_its_queue(docs: tuple[Doc, ...]) -> None:
    auth = {a["metadata"]["name"] for a in of_kind(docs, "TriggerAuthentication")}
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(docs, "ScaledObject")}
    assert set(scaled) == set(QUEUE_CONSUMERS)
    for service, queue in QUEUE_CONSUMERS.items():
        spec = scaled[service]["spec"]
        named(docs, "Deployment", service)
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == queue
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert trigger["authenticationRef"]["name"] in auth
        assert 2 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]


def test_every_service_is_scraped_on_its_http_port(docs: tuple[Doc, ...]) -> None:
    monitors = of_kind(docs, "ServiceMonitor")
    for service in SERVICES:
        deployment = named(docs, "Deployment", service)
        svc = named(docs, "Service", service)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(svc["spec"]["selector"], pod_labels)
        (monitor,) = [m for m in monitors
                      if selects(m["spec"]["selector"]["matchLabels"], svc["metadata"]["labels"])]
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics"
        assert endpoint["port"] in {p["name"] for p in svc["spec"]["ports"]}


def test_each_service_has_a_migration_job(docs: tuple[Doc, ...]) -> None:
    jobs = {tuple(j["spec"]["template"]["spec"]["containers"][0]["args"])
            for j in of_kind(docs, "Job")}
    assert jobs == {("migrate", s) for s in SERVICES}


def test_environment_matches_the_service_configuration(docs: tuple[Doc, ...]) -> None:
    """Every variable a Deployment sets is one its services/<name>/config.yml reads (where that
    file exists yet), and `$(VAR)` references only use variables defined before them."""
    for service in SERVICES:
        (c,) = named(docs, "Deployment", service)["spec"]["template"]["spec"]["containers"]
        defined: list[str] = []
        for var in c["env"]:
            for ref in re.findall(r"\$\((\w+)\)", var.get("value", "")):
                assert ref in defined, f"{service}: {var['name']} uses $({ref}) before it is set"
            defined.append(var["name"])
        config_file = REPO / "services" / service / "config.yml"
        if config_file.exists():
            read = set(re.findall(r"\$\{(\w+):", config_file.read_text()))
            unread = {v for v in defined if not v.startswith("DB_")} - read
            assert not unread, f"{service}: config.yml does not read {unread}"
    read_anywhere = {v for path in (REPO / "services").glob("*/config.yml")
                     for v in re.findall(r"\$\{(\w+):", path.read_text())}
    (config,) = [c for c in of_kind(docs, "ConfigMap")
                 if c["metadata"]["name"].startswith("parpulse-config")]
    assert set(config["data"]) - read_anywhere == set()


def test_no_secret_is_committed_and_every_one_used_is_documented(docs: tuple[Doc, ...]) -> None:
    assert of_kind(docs, "Secret") == []
    readme = (REPO / "deploy" / "README.md").read_text()
    used = {ref["name"] for _, spec in pod_specs(docs) for c in containers(spec)
            for ref in [e["valueFrom"]["secretKeyRef"] for e in c.get("env", [])
                        if "secretKeyRef" in e.get("valueFrom", {})]
            + [e["secretRef"] for e in c.get("envFrom", []) if "secretRef" in e]}
    used |= {r["name"] for a in of_kind(docs, "TriggerAuthentication")
             for r in a["spec"]["secretTargetRef"]}
    used |= {t["secretName"] for i in of_kind(docs, "Ingress") for t in i["spec"].get("tls", [])}
    assert len(used) >= 8
    assert {s for s in used if f"`{s}`" not in readme} == set()


def test_the_gateway_ingress_streams_server_sent_events(docs: tuple[Doc, ...]) -> None:
    annotations = named(docs, "Ingress", "gateway")["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "proxy-buffering"] == "off"
    assert int(annotations[prefix + "proxy-read-timeout"]) >= 3600
    internal = named(docs, "Ingress", "gateway-internal-paths")
    paths = {p["path"] for p in internal["spec"]["rules"][0]["http"]["paths"]}
    assert paths == {"/metrics", "/healthz", "/readyz"}


def test_traffic_is_denied_unless_allowed(docs: tuple[Doc, ...]) -> None:
    policies = of_kind(docs, "NetworkPolicy")
    deny = named(docs, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    egress_ports = {p["port"] for n in policies for rule in n["spec"].get("egress", [])
                    for p in rule.get("ports", [])}
    assert {53, 5672, 5432, 587, 443} <= egress_ports


def test_the_broker_and_database_are_replicated(docs: tuple[Doc, ...]) -> None:
    (rabbit,) = of_kind(docs, "RabbitmqCluster")
    (postgres,) = of_kind(docs, "Cluster")
    assert rabbit["spec"]["replicas"] == 3
    assert postgres["spec"]["instances"] == 3
