"""The alert rules and the Grafana dashboard. Always: the PrometheusRule validates against its
CRD, every alert is documented, and every expression names only metrics that exist (exported by
the services, listed "to be exported" in deploy/README.md, recorded by the rules, or the broker's
and Prometheus' own). With promtool installed (Debian's `prometheus` package): `promtool check
rules`, the dashboard's queries parsed the same way, and `promtool test rules` proving each alert
fires on synthetic series, and stays quiet before it should."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.crd_schema import strict

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "rules.yaml"
DASHBOARD = REPO / "deploy" / "grafana" / "parpulse.json"
CRD = REPO.parent / "shared" / "k8s-crds" / "monitoring.coreos.com_prometheusrules.yaml"
# Series ParPulse does not export but reads: Prometheus' own and the broker's (rabbitmq_prometheus,
# /metrics/detailed with the queue_coarse_metrics and queue_consumer_count families).
EXTERNAL = {"up", "rabbitmq_detailed_queue_messages", "rabbitmq_detailed_queue_consumers"}
REQUIRED_ALERTS = {
    "ParPulseDeadLetterQueueGrowing", "ParPulseOutboxLag", "ParPulseQueueWithoutConsumer",
    "ParPulseOverdueSpike", "ParPulseServiceDown",
}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset",
                   "bool", "and", "or", "unless", "atan2"}
SUFFIXES = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("", "_sum", "_count")}

Doc = dict[str, Any]


@functools.cache
def rules_doc() -> Doc:
    doc: Doc = yaml.safe_load(RULES.read_text())
    return doc


def rules() -> list[Doc]:
    return [r for g in rules_doc()["spec"]["groups"] for r in g["rules"]]


def alerts() -> dict[str, Doc]:
    return {r["alert"]: r for r in rules() if "alert" in r}


def expand(name: str, kind: str) -> set[str]:
    if kind == "counter" and not name.endswith("_total"):
        name += "_total"
    return {name + s for s in SUFFIXES[kind]}


@functools.cache
def known_metrics() -> frozenset[str]:
    known = set(EXTERNAL)
    definition = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"([a-z_:][a-z0-9_:]*)\"")
    for path in (REPO / "services").rglob("*.py"):
        for kind, name in definition.findall(path.read_text(encoding="utf-8")):
            known |= expand(name, kind.lower())
    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### To be exported", 1)[1].split("\n## ", 1)[0]
    for name, kind in re.findall(r"^\| `(parpulse_[a-z0-9_]+)` \| (\w+) \|", section, re.M):
        known |= expand(name, kind)
    known |= {r["record"] for r in rules() if "record" in r}
    return frozenset(known)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL (or Grafana) expression selects. Not a parser: it drops string
    literals, label matchers, ranges, grouping clauses and $variables, then keeps identifiers
    that are neither functions nor keywords."""
    e = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\w+", " ", e)
    found = re.finditer(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?", e)
    return {m[1] for m in found if not m[2] and m[1] not in PROMQL_KEYWORDS}


def test_metric_names_are_read_out_of_expressions() -> None:
    expr = ('sum by (namespace, unit) (rate(a_total{x="y{1}"}[5m] offset 1h)) / on (u) '
            'group_left(v) b:c:max > 1.5e3 and histogram_quantile(0.9, d_bucket[$__rate_interval])')
    assert metric_names(expr) == {"a_total", "b:c:max", "d_bucket"}


# --- the rules -----------------------------------------------------------------------------


def test_the_rule_resource_validates_against_its_crd() -> None:
    if not CRD.exists():
        pytest.skip(f"the Prometheus Operator CRDs are not at {CRD.parent} (../shared/k8s-crds "
                    "beside the repository): the PrometheusRule cannot be validated")
    crd = yaml.safe_load(CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    doc = rules_doc()
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert doc["kind"] == "PrometheusRule"
    # Not jsonschema.validate: it checks the schema's Go regular expressions as Python ones.
    validator = jsonschema.Draft7Validator(strict(version["schema"]["openAPIV3Schema"]))
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(doc)]
    assert not errors, "\n".join(errors)
    misspelt = {**doc, "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "exp": "up"}]}]}}
    assert list(validator.iter_errors(misspelt))


def test_the_alerts_the_platform_needs_exist() -> None:
    assert set(alerts()) >= REQUIRED_ALERTS




def anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#+\s+(.+?)\s*$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_alert_says_what_happened_and_where_the_runbook_is() -> None:
    documented = anchors((REPO / "docs" / "operations.md").read_text(encoding="utf-8"))
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        notes = rule["annotations"]
        assert notes["summary"].strip() and notes["description"].strip(), name
        page, _, anchor = notes["runbook"].partition("#")
        assert page == "docs/operations.md" and anchor in documented, f"{name}: {notes['runbook']}"
        for text in notes.values():
            # Only label values, so the promtool tests below can render them exactly.
            assert re.sub(r"\{\{ \$labels\.\w+ \}\}", "", text).count("{{") == 0, name


def test_every_expression_names_only_known_metrics() -> None:
    known = known_metrics()
    for rule in rules():
        name = rule.get("alert") or rule["record"]
        names = metric_names(rule["expr"])
        assert names, f"{name}: no metric in {rule['expr']!r}"
        assert names <= known, f"{name}: unknown {names - known}"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus); the rules "
                    "were only parsed and checked against the known metrics")
    return path


def run(*args: str) -> None:
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    tool = promtool()
    plain = tmp_path / "rules.yaml"
    plain.write_text(yaml.safe_dump(rules_doc()["spec"]))
    run(tool, "check", "rules", str(plain))


NS = 'namespace="parpulse-demo"'
# alert: (input series, a time it must not fire yet, a time it must fire, its labels there)
CASES: dict[str, tuple[list[tuple[str, str]], str, str, dict[str, str]]] = {
    "ParPulseDeadLetterQueueGrowing": (
        [(f'rabbitmq_detailed_queue_messages{{{NS},queue="dossiers.inbound.dlq",pod="r-0"}}',
          "0x10 1+1x20"),
         (f'rabbitmq_detailed_queue_messages{{{NS},queue="dossiers.inbound",pod="r-0"}}',
          "0+10x30")],
        "8m", "20m", {"namespace": "parpulse-demo", "queue": "dossiers.inbound.dlq"}),
    "ParPulseOutboxLag": (
        [(f'parpulse_outbox_oldest_age_seconds{{{NS},service="dossiers",pod="d-a"}}',
          "0x5 60+60x20")],
        "10m", "16m", {"namespace": "parpulse-demo", "service": "dossiers"}),
    "ParPulseQueueWithoutConsumer": (
        [(f'rabbitmq_detailed_queue_consumers{{{NS},queue="scoring.dossier-events",pod="r-1"}}',
          "2x5 0x20"),
         (f'rabbitmq_detailed_queue_consumers{{{NS},queue="scoring.dossier-events.dlq",pod="r-1"}}',
          "0x25")],
        "5m", "15m", {"namespace": "parpulse-demo", "queue": "scoring.dossier-events"}),
    "ParPulseOverdueSpike": (
        [(f'parpulse_dossiers_open{{{NS},unit="H99.01",state="overdue",pod="d-a"}}',
          "5x60 30x40"),
         (f'parpulse_dossiers_open{{{NS},unit="H99.02",state="overdue",pod="d-a"}}',
          "5x60 12x40"),
         (f'parpulse_dossiers_open{{{NS},unit="H99.03",state="due_soon",pod="d-a"}}',
          "0x60 90x40")],
        "65m", "80m", {"namespace": "parpulse-demo", "unit": "H99.01"}),
    "ParPulseServiceDown": (
        [(f'up{{{NS},job="scoring",pod="s-a",instance="10.0.0.1:8002"}}', "1x5 0x20"),
         (f'up{{{NS},job="scoring",pod="s-b",instance="10.0.0.2:8002"}}', "1x5 0x20"),
         (f'up{{{NS},job="dossiers",pod="d-a",instance="10.0.0.3:8001"}}', "1x25")],
        "5m", "10m", {"namespace": "parpulse-demo", "job": "scoring"}),
    "ParPulseInstanceDown": (
        [(f'up{{{NS},job="dossiers",pod="d-a",instance="10.0.0.3:8001"}}', "1x5 0x20"),
         (f'up{{{NS},job="dossiers",pod="d-b",instance="10.0.0.4:8001"}}', "1x25")],
        "8m", "15m", {"namespace": "parpulse-demo", "job": "dossiers", "pod": "d-a",
                      "instance": "10.0.0.3:8001"}),
    "ParPulseHandlerFailures": (
        [(f'parpulse_messages_consumed_total{{{NS},service="scoring",'
          f'queue="scoring.dossier-events",outcome="failed",pod="s-a"}}', "0+2x30")],
        "5m", "20m", {"namespace": "parpulse-demo", "service": "scoring",
                      "queue": "scoring.dossier-events"}),
    "ParPulseSweeperStalled": (
        # promtool's clock starts at the Unix epoch, so a healthy sweeper's value is the time.
        [(f'parpulse_sweeper_last_run_timestamp_seconds{{{NS},service="dossiers",pod="d-a"}}',
          "0+60x5 300x20")],
        "12m", "20m", {"namespace": "parpulse-demo"}),
    "ParPulseNotificationDeliveriesFailing": (
        [(f'parpulse_notification_deliveries_total{{{NS},channel="email",outcome="failed"}}',
          "0+5x40"),
         (f'parpulse_notification_deliveries_total{{{NS},channel="email",outcome="delivered"}}',
          "0+5x40"),
         (f'parpulse_notification_deliveries_total{{{NS},channel="webhook",outcome="delivered"}}',
          "0+5x40")],
        "10m", "30m", {"namespace": "parpulse-demo", "channel": "email"}),
}


def render(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m[1], ""), template)


def test_every_alert_has_a_firing_case() -> None:
    assert set(CASES) == set(alerts())


def test_each_alert_fires_when_it_should_and_not_before(tmp_path: Path) -> None:
    tool = promtool()
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules_doc()["spec"]))
    tests = []
    for name, (series, quiet, firing, labels) in CASES.items():
        rule = alerts()[name]
        expected = {"exp_labels": {**labels, **rule["labels"]},
                    "exp_annotations": {k: render(v, labels)
                                        for k, v in rule["annotations"].items()}}
        tests.append({
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series],
            "alert_rule_test": [
                {"eval_time": quiet, "alertname": name, "exp_alerts": []},
                {"eval_time": firing, "alertname": name, "exp_alerts": [expected]},
            ],
        })
    spec = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "rules_test.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    run(tool, "test", "rules", str(tmp_path / "rules_test.yaml"))


# --- the dashboard -------------------------------------------------------------------------


def panels() -> list[Doc]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    flat: list[Doc] = []
    for p in dashboard["panels"]:
        flat.append(p)
        flat.extend(p.get("panels", []))
    return flat


def exprs() -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in panels() for t in p.get("targets", [])]


def test_the_dashboard_is_importable_as_is() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    assert "id" not in dashboard, "an exported id would clash on import"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert "namespace" in variables
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids))
    for p in panels():
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
            assert p["targets"], p["title"]


def test_panels_do_not_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for p in panels():
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps {cells.get((x, y))}"
                cells[(x, y)] = p["title"]


def test_every_panel_queries_parpulse_series() -> None:
    known = known_metrics()
    titles = {p["title"] for p in panels() if p["type"] != "row"}
    assert len(titles) >= 15
    assert {t for t, _ in exprs()} == titles
    for title, expr in exprs():
        names = metric_names(expr)
        assert any(re.match(r"parpulse[_:]", n) for n in names), f"{title}: {expr}"
        assert names <= known, f"{title}: unknown {names - known}"
        assert 'namespace=~"$namespace"' in expr, f"{title}: not filtered by province"


def test_promtool_parses_every_panel_query(tmp_path: Path) -> None:
    tool = promtool()
    records = [{"record": f"parpulse_dashboard_check_{i}",
                "expr": expr.replace("$__rate_interval", "5m").replace("$namespace", "x")}
               for i, (_, expr) in enumerate(exprs())]
    path = tmp_path / "dashboard.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    run(tool, "check", "rules", str(path))
