"""The layer builder: contract lists rendered into the marts' SQL, and layers rebuilt whole."""

from __future__ import annotations

import pytest

from warehouse import transform


def test_the_marts_sql_takes_the_failure_reasons_from_the_contract(monkeypatch):
    monkeypatch.setattr(transform, "FAILURE_REASONS", ("customer_not_available", "dog_bit"))
    mart = next(s for s in transform.statements("marts")
                if s.startswith("CREATE TABLE marts.carrier_pickup_daily"))
    assert "AS failed_dog_bit" in mart
    assert "failed_wrong_address_or_phone" not in mart


def test_the_marts_sql_takes_the_defect_reasons_and_conditions_from_the_contract(monkeypatch):
    monkeypatch.setattr(transform, "DEFECT_REASONS", ("defective",))
    monkeypatch.setattr(transform, "DEFECT_CONDITIONS", ("empty_box",))
    mart = next(s for s in transform.statements("marts")
                if s.startswith("CREATE TABLE marts.vendor_quality"))
    assert "reason_code IN ('defective')" in mart
    assert "condition IN ('empty_box')" in mart


def test_no_contract_placeholder_is_left_in_any_layer():
    for layer in transform.LAYERS:
        assert not any("{{" in s for s in transform.statements(layer)), layer


def test_a_placeholder_the_contract_does_not_provide_is_an_error():
    with pytest.raises(KeyError, match="no_such_list"):
        transform._render("SELECT {{no_such_list}}")


def test_a_contract_code_that_is_not_an_identifier_is_refused(monkeypatch):
    monkeypatch.setattr(transform, "DEFECT_REASONS", ("defective', 'x",))
    with pytest.raises(ValueError, match="identifiers"):
        transform.contract_lists()


def test_an_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="unknown layer 'gold'"):
        transform.build_layer(None, "gold")  # type: ignore[arg-type]
