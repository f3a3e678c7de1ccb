"""Amounts the loaded source does not record are never shown as 0 or 0.00."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.dashboard.conftest import page, variant_warehouse
from tests.dashboard.helpers import find, table_header, text

# what a refunds-only export carries: no other cost and no reason
UNRECORDED = ("restocking_fee", "return_shipping_cost", "handling_cost", "recovered_value",
              "reason_code")


@pytest.fixture(scope="module")
def refunds_only_url(small_shop_dir: Path, prefect_harness: None,
                     tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse from a shop whose returns record refunds but no other cost, and no reason."""
    def blank_costs(source: Path) -> None:
        returns = pl.read_parquet(source / "returns.parquet")
        returns.with_columns(pl.lit(None, dtype=returns.schema[c]).alias(c)
                             for c in UNRECORDED).write_parquet(source / "returns.parquet")

    return variant_warehouse(small_shop_dir, "refunds_only", blank_costs, tmp_path_factory)


def test_cost_cards_say_not_recorded_instead_of_zero(refunds_only_url: str) -> None:
    from dashboard.app import create_app

    create_app(refunds_only_url)
    kpis, *_ = page("costs").update_costs(
        {"from": None, "to": None, "category": [], "channel": [], "region": []})

    for key in ("restocking-fees", "shipping", "handling", "recovered"):
        shown = text(find(kpis, f"costs-kpi-{key}"))
        assert "not recorded" in shown and "0.00" not in shown, key
    assert "does not record restocking fees kept, reverse shipping, handling, value recovered" \
        in text(kpis)
    assert "not recorded" not in text(find(kpis, "costs-kpi-net-cost"))


ALL = {"from": None, "to": None, "category": [], "channel": [], "region": []}


def test_npr_card_says_not_recorded_when_the_source_has_no_carrier_scans(
        no_scans_warehouse_url: str) -> None:
    from dashboard.app import create_app

    create_app(no_scans_warehouse_url)
    cards, *_ = page("overview").update_overview(ALL)

    shown = text(find(cards, "overview-kpi-npr-rate"))
    assert "not recorded by this source" in shown and "–" not in shown


@pytest.fixture
def retail_app(retail_warehouse: tuple[str, object]) -> str:
    """The dashboard over the Online Retail II extract (no deliveries, scans, resolutions).

    Built for each test: other tests here point the app at other warehouses.
    """
    from dashboard.app import create_app

    url, _ = retail_warehouse
    create_app(url)
    return url


def test_online_retail_rto_and_exchange_share_say_not_recorded_never_zero(
        retail_app: str) -> None:
    cards, *_ = page("overview").update_overview(ALL)

    for key in ("rto-units", "npr-rate", "exchange-share", "value-retained"):
        shown = text(find(cards, f"overview-kpi-{key}"))
        assert "not recorded by this source" in shown, key
        assert not any(v in shown.split() for v in ("0", "0.00", "0.0%")), key
    assert "(GBP)" in text(find(cards, "overview-kpi-refund-value"))


def test_online_retail_cost_tables_leave_out_what_the_source_does_not_record(
        retail_app: str) -> None:
    costs = page("costs")

    _, waterfall, month, table = costs.update_costs(ALL)
    _, breakdown = costs.update_breakdown(ALL, "category")
    recovery_figure, recovery = costs.update_recovery(ALL)

    for shown in (text(table), text(breakdown)):
        assert "Refunds (GBP)" in shown and "Net cost (GBP)" in shown
        for missing in ("Reverse shipping", "Handling", "Restocking fees", "Value recovered"):
            assert missing not in shown, missing
    assert "Reverse shipping" not in [t.name for t in month.data]
    assert list(waterfall.data[0].x) == ["Gross refunds", "Net cost"]
    assert "does not record the value recovered" in text(recovery)


def test_vendor_defect_rises_say_the_source_has_no_reasons_not_that_none_rose(
        refunds_only_url: str) -> None:
    from dashboard.app import create_app

    create_app(refunds_only_url)
    _, vendors, *_ = page("overview").update_movers(ALL, 28)

    assert "carries no return reasons" in text(vendors)
    assert "rose clearly" not in text(vendors)


def test_the_overview_says_what_its_net_cost_leaves_out(refunds_only_url: str) -> None:
    from dashboard.app import create_app

    create_app(refunds_only_url)
    _, notes, *_ = page("overview").update_overview(ALL)

    assert "Net return cost leaves out what the loaded source does not record: restocking " \
        "fees kept, reverse shipping, handling, value recovered" in text(notes)


def test_the_overview_says_nothing_of_costs_a_source_records(no_scans_warehouse_url: str) -> None:
    from dashboard.app import create_app

    create_app(no_scans_warehouse_url)
    _, notes, *_ = page("overview").update_overview(ALL)

    assert "leaves out" not in text(notes)


def test_sku_rankings_of_a_source_without_vendors_have_no_vendor_column(
        retail_app: str) -> None:
    products = page("products")
    _, outliers, *_ = products.update_outliers(ALL, products.EMPTY_DRILL)

    assert "Vendor" not in table_header(outliers) and "SKU" in table_header(outliers)


def test_defect_sku_ranking_of_a_source_without_reasons_says_so_not_that_no_row_matches(
        retail_app: str) -> None:
    products = page("products")
    _, _, defects, _ = products.update_outliers(ALL, products.EMPTY_DRILL)

    assert "carries no return reasons" in text(defects)
    assert "No rows for the current filters" not in text(defects)


def test_the_policy_lab_without_a_return_policy_says_why_once_and_no_view_is_blank(
        retail_app: str) -> None:
    banner, waterfall, estimates, table, tornado, _ = page("policy").update_policy(
        30, 0, 0, 0, [], None, None, [])

    assert "no return policy" in text(banner) and "days-to-return" in text(banner)
    assert "Nothing to simulate" in text(table)
    for figure in (waterfall, estimates, tornado):
        assert figure.layout.annotations[0].text.startswith("Nothing to simulate")


def test_vendors_of_a_source_without_vendors_say_so_instead_of_ranking_placeholders(
        retail_app: str) -> None:
    vendors = page("vendors")

    notes, kpis, ranking, options, chosen = vendors.update_ranking(ALL, None, None)
    detail, trend, *_ = vendors.update_vendor(chosen)

    assert "names no vendors" in text(notes) and "names no vendors" in text(ranking)
    assert kpis is None and options == [] and chosen is None
    assert "see the message above" in text(detail)
    assert "0.0%" not in text(ranking)
