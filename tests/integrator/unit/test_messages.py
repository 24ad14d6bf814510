"""The integrator kit routes a DVCQG call by the unit all its dossiers share."""

from __future__ import annotations

from services.integrator.messages import single_unit


def test_single_unit_is_the_one_unit_every_dossier_names() -> None:
    assert single_unit([{"DonViXuLy": "H99.01"}, {"DonViXuLy": "H99.01"}], "DonViXuLy") == "H99.01"
    assert single_unit([{"DonViXuLy": "H99.01"}, {"DonViXuLy": "H99.02"}], "DonViXuLy") is None
    assert single_unit([{"DonViXuLy": "H99.01"}, {}], "DonViXuLy") is None
    assert single_unit([], "DonViXuLy") is None


def test_a_unit_that_is_not_a_string_routes_as_mixed_instead_of_failing() -> None:
    # The dossiers service quarantines such a dossier; the kit must still send it there.
    assert single_unit([{"DonViXuLy": {"code": "H99.01"}}], "DonViXuLy") is None
    assert single_unit([{"DonViXuLy": ["H99.01"]}, {"DonViXuLy": "H99.01"}], "DonViXuLy") is None
