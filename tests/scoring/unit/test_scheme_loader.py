from pathlib import Path

import pytest
import yaml

from services.scoring.domain.scheme import DEFAULT_BANDS, Group, Indicator, Scheme, SchemeError
from services.scoring.scheme_loader import load_scheme, load_schemes, scheme_from_dict

SCHEMES = Path(__file__).resolve().parents[3] / "data" / "schemes"

MINIMAL = {
    "key": "mini",
    "name_vi": "nhỏ",
    "name_en": "mini",
    "groups": [{
        "key": "g", "name_vi": "g", "name_en": "g", "max_points": 10,
        "indicators": [
            {"key": "on_time", "name_vi": "x", "name_en": "x", "max_points": 6,
             "numerator": "progress_numerator", "denominator": "progress_denominator",
             "target": "80%"},
            {"key": "ext", "name_vi": "y", "name_en": "y", "max_points": 4,
             "source": "external"},
        ],
    }],
}


def write(tmp_path: Path, doc: object, name: str = "mini.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_schemes_load_and_total_100() -> None:
    schemes = load_schemes(SCHEMES)
    assert set(schemes) == {"qd766", "province-weighted"}
    qd = schemes["qd766"]
    assert qd.max_points == 100
    assert {g.key: g.max_points for g in qd.groups} == {
        "transparency": 18, "progress": 20, "online_service": 12, "online_payment": 10,
        "digitisation": 22, "satisfaction": 18}
    assert len(qd.indicators) == 15
    assert qd.external_inputs() == {
        "procedures_published": "rate", "procedures_payable_national": "rate",
        "e_certified_copies": "rate", "feedback_handling": "rate", "complaint_rate": "rate"}
    targets = {i.key: i.target for i in qd.indicators if i.target is not None}
    assert targets == {"online_filing": 0.5, "procedures_payable_national": 0.8,
                       "digitised": 0.8, "data_reused": 0.8, "handling_satisfaction": 0.9}
    assert qd.bands == DEFAULT_BANDS
    other = schemes["province-weighted"]
    assert [b.min_score for b in other.bands] == [85, 65, 0]
    assert other.external_inputs() == {}


def test_minimal_scheme_defaults(tmp_path: Path) -> None:
    doc = {k: v for k, v in MINIMAL.items() if k != "key"}
    scheme = load_scheme(write(tmp_path, doc, "from-file-name.yaml"))
    assert scheme.key == "from-file-name"
    assert scheme.bands == DEFAULT_BANDS
    on_time, ext = scheme.indicators
    assert (on_time.group, on_time.target, on_time.source) == ("g", 0.8, "dossiers")
    assert (ext.source, ext.input_kind, ext.target) == ("external", "rate", None)


def test_group_maximum_must_equal_its_indicators(tmp_path: Path) -> None:
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["groups"][0]["max_points"] = 12
    with pytest.raises(SchemeError, match=r"mini.yaml.*group 'g': max_points 12 but its "
                                          r"indicators add up to 10"):
        load_scheme(write(tmp_path, doc))


def test_total_above_100_is_rejected() -> None:
    with pytest.raises(SchemeError, match="total max_points 110 exceeds 100"):
        Scheme("big", "b", "b", (Group("g", "g", "g", 110),),
               (Indicator("x", "x", "x", "g", 110, source="external"),))


def test_unknown_counter_and_bad_target_are_named() -> None:
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["groups"][0]["indicators"][0]["numerator"] = "on_tme"
    doc["groups"][0]["indicators"][0]["target"] = 80
    with pytest.raises(SchemeError) as err:
        scheme_from_dict(doc)
    assert "numerator 'on_tme' is not a known counter" in str(err.value)
    assert "target must be a fraction in (0, 1], got 80" in str(err.value)


def test_distinct_refs_only_for_per_procedure_counters() -> None:
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["groups"][0]["indicators"][0]["denominator"] = "distinct:received"
    with pytest.raises(SchemeError, match="denominator 'distinct:received'"):
        scheme_from_dict(doc)


def test_structure_errors_name_the_field(tmp_path: Path) -> None:
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["groups"][0]["indicators"][1]["maxpoints"] = 4
    with pytest.raises(SchemeError, match=r"groups\[0\]\.indicators\[1\]: unknown field"):
        scheme_from_dict(doc)
    del doc["groups"][0]["indicators"][1]["maxpoints"]
    del doc["groups"][0]["indicators"][1]["max_points"]
    with pytest.raises(SchemeError, match=r"indicators\[1\]: missing field\(s\) \['max_points'\]"):
        scheme_from_dict(doc)
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups: [unclosed", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"bad\.yaml: not valid YAML"):
        load_scheme(bad)


def test_external_indicator_rules() -> None:
    with pytest.raises(SchemeError, match="takes no counters"):
        one_indicator_scheme(Indicator("x", "x", "x", "g", 10, source="external", numerator="late"))
    with pytest.raises(SchemeError, match="submitted as points takes no target"):
        one_indicator_scheme(Indicator("x", "x", "x", "g", 10, source="external",
                                   input_kind="points", target=0.5))
    with pytest.raises(SchemeError, match="deduct is only meaningful"):
        one_indicator_scheme(Indicator("x", "x", "x", "g", 10, numerator="late",
                                   denominator="received", deduct=("complaint_rate",)))


def one_indicator_scheme(ind: Indicator) -> Scheme:
    return Scheme("s", "s", "s", (Group("g", "g", "g", ind.max_points),), (ind,))


def test_duplicate_scheme_keys_across_files(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "a.yaml")
    write(tmp_path, MINIMAL, "b.yaml")
    with pytest.raises(SchemeError, match=r"b\.yaml: scheme key 'mini' is already used"):
        load_schemes(tmp_path)
    with pytest.raises(SchemeError, match="missing: not a directory"):
        load_schemes(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SchemeError, match="no scheme files"):
        load_schemes(tmp_path / "empty")
