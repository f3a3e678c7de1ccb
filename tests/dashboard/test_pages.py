"""Page callbacks, called directly: what each page shows reconciles with the shop's files,
and the planted truths are visible."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import dash
import polars as pl
import pytest

from dashboard.components import format_value
from dashboard.filters import to_filters
from tests.dashboard.conftest import page
from tests.dashboard.helpers import (
    call_triggered,
    find,
    table_header,
    table_links,
    table_rows,
    text,
)
from tests.reference import reference_kpis
from tests.shop_reference import lines_enriched, pickup_attempts, returns_enriched
from warehouse import read
from warehouse.contract import code_label

STATE = {"from": "2025-01", "to": "2025-06", "category": [], "channel": [], "region": []}
ALL = {"from": None, "to": None, "category": [], "channel": [], "region": []}


def _state(**changes: object) -> dict[str, object]:
    return {**ALL, **changes}


def test_overview_kpis_equal_the_reference_computation(app: dash.Dash, shop_dir: Path) -> None:
    overview = page("overview")
    expected = reference_kpis(shop_dir, date(2025, 1, 1), date(2025, 6, 30))

    cards, *_ = overview.update_overview(STATE)

    for key, _label, kind, _bad in overview.KPIS:
        card = find(cards, f"overview-kpi-{key.replace('_', '-')}")
        assert format_value(expected[key], kind) in text(card), key


def test_overview_kpis_compare_with_the_months_before(app: dash.Dash, shop_dir: Path) -> None:
    overview = page("overview")
    now = reference_kpis(shop_dir, date(2025, 1, 1), date(2025, 6, 30))
    before = reference_kpis(shop_dir, date(2024, 7, 1), date(2024, 12, 31))

    cards, *_ = overview.update_overview(STATE)

    card = text(find(cards, "overview-kpi-return-rate-units"))
    change = 100 * (now["return_rate_units"] - before["return_rate_units"])
    assert f"{change:+.1f} pp vs previous period" in card
    orders = text(find(cards, "overview-kpi-orders"))
    assert f"{now['orders'] / before['orders'] - 1:+.1%}" in orders


def test_overview_kpis_over_days_compare_with_the_days_before(app: dash.Dash,
                                                             shop_dir: Path) -> None:
    overview = page("overview")
    now = reference_kpis(shop_dir, date(2025, 3, 10), date(2025, 4, 6))
    before = reference_kpis(shop_dir, date(2025, 2, 10), date(2025, 3, 9))

    cards, notes, *_ = overview.update_overview(
        _state(**{"from": "2025-03-10", "to": "2025-04-06"}))

    orders = text(find(cards, "overview-kpi-orders"))
    assert format_value(now["orders"], "int") in orders
    assert f"{now['orders'] / before['orders'] - 1:+.1%}" in orders
    assert "2025-02-10 – 2025-03-09" in text(notes)


def test_overview_does_not_compare_returns_of_days_whose_returns_are_still_arriving(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    overview = page("overview")
    last = shop["orders"]["ordered_at"].max().date()
    first = last - timedelta(days=27)

    cards, notes, *_ = overview.update_overview(
        _state(**{"from": first.isoformat(), "to": last.isoformat()}))

    for key in ("units-returned", "return-rate-units", "refund-value", "net-return-cost"):
        shown = text(find(cards, f"overview-kpi-{key}"))
        assert "not compared" in shown and "vs previous period" not in shown, key
    assert "vs previous period" in text(find(cards, "overview-kpi-orders"))
    assert "of these orders' returns are in" in text(notes)


def test_overview_does_not_compare_with_a_period_the_data_covers_only_in_part(
        app: dash.Dash) -> None:
    overview = page("overview")

    # the shop starts in January 2024: the six months before March 2024 are mostly missing
    cards, notes, *_ = overview.update_overview(_state(**{"from": "2024-03", "to": "2024-08"}))

    assert "no complete earlier period" in text(
        find(cards, "overview-kpi-orders"))
    assert "not compared: the data starts on 2024-01-01" in text(notes)


def test_the_comparison_period_is_the_previous_one_when_the_data_covers_it() -> None:
    overview = page("overview")
    first = date(2024, 1, 1)
    assert overview.comparison_period(date(2025, 1, 1), date(2025, 6, 30), first) == (
        date(2024, 7, 1), date(2024, 12, 31))
    assert overview.comparison_period(date(2024, 3, 1), date(2024, 8, 31), first) is None
    assert overview.comparison_period(date(2024, 1, 8), date(2024, 1, 14), first, True) == (
        date(2024, 1, 1), date(2024, 1, 7))
    assert overview.comparison_period(date(2024, 1, 5), date(2024, 1, 11), first, True) is None


def test_overview_trends_add_up_to_the_net_return_cost(app: dash.Dash, shop_dir: Path,
                                                       shop: dict[str, pl.DataFrame]) -> None:
    overview = page("overview")
    expected = reference_kpis(shop_dir)

    _, _, rate, cost = overview.update_overview(ALL)

    assert sum(cost.data[0].y) == pytest.approx(expected["net_return_cost"], abs=0.05)
    lines = lines_enriched(shop).filter(pl.col("order_month") == date(2024, 6, 1))
    returned = returns_enriched(shop).filter(pl.col("order_month") == date(2024, 6, 1),
                                             pl.col("return_type") == "customer_return")
    complete = next(t for t in rate.data if t.name == "Return rate (complete cohort)")
    june = list(complete.x).index(date(2024, 6, 1))
    assert complete.y[june] == pytest.approx(returned["quantity"].sum()
                                             / lines["quantity"].sum())


def test_overview_flags_the_latest_order_month_as_still_collecting_returns(
        app: dash.Dash) -> None:
    _, notes, rate, _ = page("overview").update_overview(ALL)

    assert "2025-12" in text(notes) and "still collecting returns" in text(notes)
    assert any(t.name.startswith("Expected final rate") for t in rate.data)


def test_overview_segment_filters_change_the_trends(app: dash.Dash) -> None:
    overview = page("overview")

    _, _, _, everything = overview.update_overview(ALL)
    _, notes, _, shoes = overview.update_overview(_state(category=["shoes"]))

    assert sum(shoes.data[0].y) < sum(everything.data[0].y)
    assert "whole shop" in text(notes)


def _month_after_turn(turn: date) -> str:
    """The first month whose last 28 days of orders all come after `turn`."""
    month = turn.replace(day=1)
    while True:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if following - timedelta(days=28) >= turn:
            return month.strftime("%Y-%m")
        month = following


def test_overview_lists_the_vendors_whose_defect_rate_rose_and_no_other(
        truth_shop: tuple[Path, str]) -> None:
    from dashboard.app import create_app

    shop_dir, url = truth_shop
    create_app(url)
    overview = page("overview")
    truth = pl.read_parquet(shop_dir / "_truth" / "defective_vendors.parquet")
    defective = {f"Vendor {v[1:]}" for v in truth["vendor_id"]}

    _, vendors, _, period = overview.update_movers(
        _state(to=_month_after_turn(truth["defect_start"].max())), 28)

    listed = {" ".join(r[0].split()[:2]) for r in table_rows(vendors)}
    assert listed and listed <= defective
    assert "returned within 28 days of ordering" in period


def test_overview_returned_more_links_each_sku_to_its_drill_down_with_the_filters(
        truth_shop: tuple[Path, str]) -> None:
    from dashboard.app import create_app

    shop_dir, url = truth_shop
    create_app(url)
    overview = page("overview")
    turn = pl.read_parquet(shop_dir / "_truth" / "defective_vendors.parquet")["defect_start"].max()
    state = _state(to=_month_after_turn(turn))

    skus, *_ = overview.update_movers(state, 28)

    links = table_links(skus)
    assert links, "no SKU's return rate rose clearly after a vendor turned defective"
    for sku, link in links:
        assert link == {"href": f"/products?to={state['to']}&drill=sku%3A{sku}"}


def test_overview_returned_more_says_so_when_no_rate_rose_clearly(app: dash.Dash) -> None:
    overview = page("overview")

    # the shop's first month: a young shop with few lines per SKU, none clearly worse
    skus, *_ = overview.update_movers(_state(to="2024-01"), 7)

    assert not table_rows(skus)
    assert re.search(r"No SKU's return rate rose clearly: \d+ tested", text(skus))


def test_carriers_failing_more_pickups_compare_the_npr_of_first_attempts(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    overview = page("overview")
    filters = to_filters(ALL)
    current, previous = overview.mover_windows(filters, 28)
    firsts = pickup_attempts(shop).filter(pl.col("attempt") == 1)

    def npr(window: tuple[date, date]) -> dict[str, float]:
        return dict(firsts.filter(pl.col("attempt_date").is_between(*window)).group_by(
            "carrier").agg((pl.col("event_code") == "pickup_failed").mean()).iter_rows())

    tested = overview.npr_rises(filters, 28)

    assert tested.height > 0
    for row in tested.iter_rows(named=True):
        assert row["rate_now"] == pytest.approx(npr(current)[row["carrier"]])
        assert row["rate_before"] == pytest.approx(npr(previous)[row["carrier"]])


def test_carriers_failing_more_pickups_lists_only_clear_rises(app: dash.Dash) -> None:
    overview = page("overview")

    listed = overview.mover_table("carrier-movers", ALL, 28)

    tested = overview.npr_rises(to_filters(ALL), 28)
    clear = tested.filter(pl.col("q_value") <= 0.05, pl.col("change_pp") > 0)
    assert listed["carrier"].to_list() == clear["carrier"].to_list()


def test_costs_waterfall_and_kpis_reconcile_with_the_returns_file(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    costs = page("costs")
    returns = returns_enriched(shop).filter(
        pl.col("requested_at").dt.date().is_between(date(2025, 1, 1), date(2025, 6, 30)))

    kpis, waterfall, _, _ = costs.update_costs(STATE)

    net = returns["net_cost"].sum()
    steps = [amount for amount, _ in waterfall.data[0].customdata[:-1]]
    assert sum(steps) == pytest.approx(net, abs=0.05)
    assert waterfall.data[0].customdata[-1][0] == pytest.approx(net, abs=0.05)
    assert waterfall.data[0].y[0] == pytest.approx(
        returns["refund_amount"].sum() + returns["restocking_fee"].sum(), abs=0.01)
    assert format_value(net, "money") in text(find(kpis, "costs-kpi-net-cost"))
    assert format_value(returns.height, "int") in text(find(kpis, "costs-kpi-returns"))


def test_costs_csv_export_totals_match_the_page(app: dash.Dash) -> None:
    costs = page("costs")
    kpis, *_ = costs.update_costs(STATE)

    sent = call_triggered(costs.export_table, {"type": "costs-export-button",
                                               "table": "by-month"}, 1, STATE, "category")

    exported = pl.read_csv(io.StringIO(sent["content"]))
    assert sent["filename"] == "returnlens-costs-by-month.csv"
    assert exported.height == 6
    assert format_value(exported["net_cost_usd"].sum(), "money") in text(
        find(kpis, "costs-kpi-net-cost"))


def test_costs_break_down_by_reason(app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    expected = returns_enriched(shop).group_by("reason_code").agg(pl.col("net_cost").sum())

    figure, _ = page("costs").update_breakdown(ALL, "reason_code")

    got = dict(zip(figure.data[0].y, figure.data[0].x, strict=True))
    for reason, net in expected.iter_rows():
        assert got[code_label(reason)] == pytest.approx(net, abs=0.01)


def test_reason_codes_are_shown_in_words(app: dash.Dash) -> None:
    figure, table = page("costs").update_breakdown(ALL, "reason_code")

    assert "Size too large" in figure.data[0].y and "size_too_large" not in figure.data[0].y
    assert "Size too large" in text(table) and "size_too_large" not in text(table)
    pareto = page("products").update_reasons(ALL, page("products").EMPTY_DRILL)
    assert "Size too large" in pareto.data[0].y


def test_costs_recovery_shows_the_largest_rows_and_counts_them_all(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    costs = page("costs")

    figure, table = costs.update_recovery(ALL)

    every = costs.recovery_table(costs.to_filters(ALL))
    assert f"{every.height:,} rows; first 25 shown" in text(table)
    assert [r[0] for r in table_rows(table)] == every["sku"].head(25).to_list()
    assert sum(figure.data[1].y) == pytest.approx(shop["returns"]["recovered_value"].sum(),
                                                  abs=0.05)


def test_products_level_table_drills_from_category_to_products(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    products = page("products")
    lines = lines_enriched(shop)

    _, _, _, top_level, _ = products.update_cohorts(ALL, products.EMPTY_DRILL, "drill")
    click = {"value": "category:shoes", "at": 1}
    drilled = call_triggered(products.drill, "products-drill-click", click, [], None,
                             products.EMPTY_DRILL, value=click, prop="data")
    _, _, _, shoes_level, _ = products.update_cohorts(ALL, drilled, "drill")

    sold = dict(lines.group_by("category").agg(pl.col("quantity").sum()).iter_rows())
    rows = {r[0]: r for r in table_rows(top_level)}
    assert int(rows["shoes"][1].replace(",", "")) == sold["shoes"]
    assert drilled == {"category": "shoes", "product_id": None, "sku": None}
    shoe_products = set(lines.filter(pl.col("category") == "shoes")["product_id"])
    assert {r[0] for r in table_rows(shoes_level)} <= shoe_products


def test_products_drill_to_a_sku_shows_its_comments(app: dash.Dash,
                                                    shop: dict[str, pl.DataFrame]) -> None:
    products = page("products")
    comments = shop["returns"].filter(pl.col("reason_text").is_not_null())
    sku = comments.group_by("sku").len().sort("len", descending=True)["sku"][0]

    click = {"value": f"sku:{sku}", "at": 1}
    drilled = call_triggered(products.drill, "products-drill-click", click, [], None,
                             products.EMPTY_DRILL, value=click, prop="data")
    feedback = products.update_feedback(drilled)

    assert drilled["sku"] == sku and drilled["product_id"] == sku.split("-")[0]
    shown = text(feedback)
    assert any(t in shown for t in comments.filter(pl.col("sku") == sku)["reason_text"])


def test_products_breadcrumb_goes_back_up(app: dash.Dash) -> None:
    products = page("products")
    deep = {"category": "shoes", "product_id": "P00001", "sku": "P00001-40"}

    up = call_triggered(products.drill, {"type": "products-crumb", "index": "category"},
                        None, [1], None, deep)

    assert up == {"category": "shoes", "product_id": None, "sku": None}


def test_products_by_size_lists_each_categorys_sizes_in_order_within_their_system(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    products = page("products")
    sizes = shop["products"].group_by("category").agg(pl.col("size").unique())
    catalogue = dict(sizes.iter_rows())

    _, _, _, table, _ = products.update_cohorts(ALL, products.EMPTY_DRILL, "size")

    rows = table_rows(table)
    shown: dict[str, list[str]] = {}
    for category, system, size, *_ in rows:
        shown.setdefault(category, []).append(size)
        assert system == {"apparel": "letter", "sports": "letter",
                          "shoes": "numeric"}.get(category, "one size")
    assert shown["apparel"] == ["XS", "S", "M", "L", "XL", "XXL"]
    assert shown["shoes"] == [str(n) for n in range(36, 46)]
    assert {c: set(v) for c, v in shown.items()} == {c: set(v) for c, v in catalogue.items()}


def test_products_by_size_never_pools_a_size_label_across_categories(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    products = page("products")
    lines = lines_enriched(shop).join(shop["products"].select("sku", "size"), on="sku")
    apparel_m = lines.filter(pl.col("category") == "apparel", pl.col("size") == "M")

    sizes = products.level_table(to_filters(ALL), products.EMPTY_DRILL, "size")

    row = sizes.row(by_predicate=pl.col("key") == "apparel · M", named=True)
    assert row["units_sold"] == apparel_m["quantity"].sum()
    assert sizes.filter(pl.col("size") == "M").height == 2  # apparel and sports, apart


def test_products_url_opens_the_drill_down_and_grouping_it_names(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    products = page("products")
    sku = lines_enriched(shop).filter(pl.col("category") == "shoes")["sku"].sort()[0]

    with app.server.test_request_context():
        drill, group = products.view_from_query({"drill": f"sku:{sku}", "group": "size"})

    assert drill == {"category": "shoes", "product_id": sku.split("-")[0], "sku": sku}
    assert group == "size"


@pytest.mark.parametrize("query", [
    {"drill": "sku:NO-SUCH-SKU"}, {"drill": "category:'; DROP TABLE x"}, {"drill": "price:1"},
    {"drill": ["sku:a", "sku:b"]}, {"drill": "sku:" + "x" * 5000}, {"group": "colour"},
])
def test_products_url_drops_a_drill_down_or_grouping_the_page_does_not_offer(
        app: dash.Dash, query: dict[str, object]) -> None:
    products = page("products")

    with app.server.test_request_context():
        assert products.view_from_query(query) == (products.EMPTY_DRILL, "drill")


def test_products_drill_down_and_grouping_go_into_the_url(app: dash.Dash) -> None:
    products = page("products")
    deep = {"category": "shoes", "product_id": "P00001", "sku": "P00001-40"}

    assert products.update_page_query(deep, "drill") == {"drill": "sku:P00001-40"}
    assert products.update_page_query({**products.EMPTY_DRILL, "category": "shoes"},
                                      "vendor_id") == {"drill": "category:shoes",
                                                       "group": "vendor"}
    assert products.update_page_query(products.EMPTY_DRILL, "drill") == {}


def test_products_flag_the_latest_cohort_as_immature(app: dash.Dash) -> None:
    products = page("products")

    cohorts = products.cohort_table(products.to_filters(ALL), products.EMPTY_DRILL)

    latest = cohorts.sort("order_month").row(-1, named=True)
    assert latest["immature"] and 0 < latest["completeness"] < 1
    assert latest["expected_final_rate"] > latest["return_rate"]
    assert not cohorts.sort("order_month").row(0, named=True)["immature"]


def test_products_search_lands_on_the_drill_down_of_the_sku_picked(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    products = page("products")
    sku = lines_enriched(shop)["sku"].sort()[0]
    name = shop["products"].filter(pl.col("sku") == sku)["product_name"][0]

    options = products.update_search(name.lower(), None)
    drilled = call_triggered(products.drill, "products-search-dropdown", None, [], sku,
                             products.EMPTY_DRILL, value=sku, prop="value")

    assert sku in [o["value"] for o in options]
    assert name in next(o["label"] for o in options if o["value"] == sku)
    assert len(options) <= read.products.SEARCH_LIMIT
    assert drilled["sku"] == sku and drilled["product_id"] == sku.split("-")[0]


def test_products_heatmap_marks_the_cohorts_still_collecting_returns(app: dash.Dash) -> None:
    products = page("products")

    _, heatmap, _, _, _ = products.update_cohorts(ALL, products.EMPTY_DRILL, "drill")

    cohorts = products.cohort_table(products.to_filters(ALL), products.EMPTY_DRILL)
    young = cohorts.filter(pl.col("immature"))["order_month"].to_list()
    months = list(heatmap.data[0].x)
    frame = heatmap.layout.shapes[0]
    assert months[int(frame.x0 + 0.5):int(frame.x1 + 0.5)] == [m.strftime("%b %Y")
                                                              for m in young]
    assert months[-1] == young[-1].strftime("%b %Y")


def test_overview_money_cards_say_their_currency(app: dash.Dash) -> None:
    cards, _, _, cost = page("overview").update_overview(STATE)

    for key in ("refund-value", "net-return-cost", "value-retained"):
        assert "(USD)" in text(find(cards, f"overview-kpi-{key}")), key
    assert cost.layout.yaxis.title.text == "net return cost (USD)"


def test_overview_shows_exchange_share_and_revenue_retained(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    resolved = returns_enriched(shop).filter(
        pl.col("return_type") == "customer_return", pl.col("resolution").is_not_null(),
        pl.col("order_month").is_between(date(2025, 1, 1), date(2025, 6, 1)))
    kept = resolved.filter(pl.col("resolution").is_in(["exchange", "store_credit"]))

    cards, *_ = page("overview").update_overview(STATE)

    assert format_value(kept.height / resolved.height, "pct") in text(
        find(cards, "overview-kpi-exchange-share"))
    assert format_value((kept["quantity"] * kept["unit_price"]).sum(), "money") in text(
        find(cards, "overview-kpi-value-retained"))


def test_costs_tables_and_csv_headers_say_their_currency(app: dash.Dash) -> None:
    costs = page("costs")

    kpis, _, month, table = costs.update_costs(STATE)
    sent = call_triggered(costs.export_table, {"type": "costs-export-button",
                                               "table": "by-month"}, 1, STATE, "category")

    assert "Net cost (USD)" in text(table) and "(USD)" in text(find(kpis, "costs-kpi-net-cost"))
    assert month.layout.yaxis.title.text == "USD"
    header = pl.read_csv(io.StringIO(sent["content"])).columns
    assert "net_cost_usd" in header and "net_cost" not in header


def test_defective_vendors_lead_the_defect_ranking_after_their_start(
        truth_shop: tuple[Path, str]) -> None:
    from dashboard.app import create_app

    shop_dir, url = truth_shop
    create_app(url)
    products = page("products")
    truth = pl.read_parquet(shop_dir / "_truth" / "defective_vendors.parquet")
    start = truth["defect_start"].max()
    first_month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    state = _state(**{"from": first_month.strftime("%Y-%m")})

    _, _, skus, vendors = products.update_outliers(state, products.EMPTY_DRILL)

    numbers = {v[1:] for v in truth["vendor_id"]}  # V028 is "Vendor 028 Apparel Co."
    assert {r[1].split()[1] for r in table_rows(skus)[:10]} <= numbers
    names = [r[0] for r in table_rows(vendors)[:2]]
    assert {n.split()[1] for n in names} == numbers


def test_the_sku_rankings_name_each_vendor(app: dash.Dash) -> None:
    products = page("products")
    _, outliers, defects, _ = products.update_outliers(ALL, products.EMPTY_DRILL)

    vendors = [r[2] for r in table_rows(outliers)] + [r[1] for r in table_rows(defects)]
    assert vendors and all(v.startswith("Vendor ") for v in vendors)


def test_the_degraded_carrier_region_is_flagged_on_the_scorecard(
        truth_shop: tuple[Path, str]) -> None:
    from dashboard.app import create_app

    shop_dir, url = truth_shop
    create_app(url)
    carriers = page("carriers")
    incident = pl.read_parquet(shop_dir / "_truth" / "carrier_incidents.parquet").row(
        0, named=True)

    _, _, scorecard, *_ = carriers.update_carriers(ALL)

    card = carriers.scorecard(carriers.to_filters(ALL))
    top = card.row(0, named=True)
    assert (top["carrier"], top["region"]) == (incident["carrier"], incident["region"])
    assert top["flagged"] and top["worst_change_pp"] > 10
    assert top["worst_from"] <= incident["end"] and top["worst_to"] >= incident["start"]
    judged = card.filter(pl.col("worst_z").is_not_null())
    assert card["flagged"].sum() <= 0.1 * judged.height  # selective, not everything
    carrier, region = table_rows(scorecard)[0][:2]
    assert carrier == incident["carrier"] and region.endswith(f"({incident['region']})")
    assert "was worse" in table_rows(scorecard)[0][2]


def test_carriers_headline_numbers_reconcile_with_the_scans(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    scans = shop["carrier_scans"]
    attempts = pickup_attempts(shop)
    per_return = scans.group_by("return_id").agg(
        picked_up=(pl.col("event_code") == "picked_up").any())

    _, kpis, *_ = page("carriers").update_carriers(ALL)

    failed = attempts.filter(pl.col("event_code") == "pickup_failed").height
    never = per_return.filter(~pl.col("picked_up")).height
    assert format_value(attempts.height, "int") in text(find(kpis, "carriers-kpi-attempts"))
    assert format_value(failed / attempts.height, "pct") in text(
        find(kpis, "carriers-kpi-npr-rate"))
    assert format_value(per_return.height, "int") in text(find(kpis, "carriers-kpi-pickups"))
    assert format_value(never / per_return.height, "pct") in text(
        find(kpis, "carriers-kpi-not-picked-up"))


def test_carriers_page_says_so_when_the_source_has_no_scans(
        no_scans_warehouse_url: str) -> None:
    from dashboard.app import create_app

    create_app(no_scans_warehouse_url)
    carriers = page("carriers")

    notes, kpis, scorecard, recommendation, _ = carriers.update_carriers(ALL)

    assert "no carrier scans" in text(notes)
    for key in ("attempts", "npr-rate", "first-attempt", "pickups", "not-picked-up"):
        shown = text(find(kpis, f"carriers-kpi-{key}"))
        assert "not recorded by this source" in shown and "0" not in shown, key
    for table in (scorecard, recommendation):
        assert "not recorded by this source" in text(table)


def test_every_carriers_chart_says_pickups_are_not_recorded_when_the_source_has_no_scans(
        no_scans_warehouse_url: str) -> None:
    from dashboard.app import create_app

    create_app(no_scans_warehouse_url)
    carriers = page("carriers")

    *charts, table = (*carriers.update_charts(ALL, None),
                      *carriers.update_times(ALL, None, "pickup_tat_days"))

    for chart in charts:
        assert "not recorded by this source" in chart.layout.annotations[0].text
    assert "not recorded by this source" in text(table)


def test_quality_page_names_the_feeds_the_source_lacks(no_scans_warehouse_url: str) -> None:
    from dashboard.app import create_app

    create_app(no_scans_warehouse_url)

    _, gaps, runs, *_ = page("quality").update_quality("/quality")

    assert "carrier_scans" in text(gaps) and "reviews" in text(gaps)
    assert len(table_rows(runs)) == 1


def test_carriers_recommend_per_region_the_carrier_with_the_best_first_attempt_success(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    carriers = page("carriers")
    per_return = shop["carrier_scans"].group_by("return_id").agg(
        pl.col("carrier", "region").min(),
        first=(pl.col("event_code") == "picked_up").any()
        & ((pl.col("event_code") == "pickup_failed").sum() == 0),
    ).join(shop["returns"].select("return_id"), on="return_id")
    rated = per_return.group_by("region", "carrier").agg(
        pickups=pl.len(), rate=pl.col("first").mean()).filter(
        pl.col("pickups") >= carriers.MIN_PICKUPS)
    expected = {row["region"]: row["carrier"] for row in rated.sort(
        "region", "rate", descending=[False, True]).group_by(
        "region", maintain_order=True).first().iter_rows(named=True)
        if rated.filter(pl.col("region") == row["region"]).height >= 2}

    found = carriers.recommendation(to_filters(ALL))
    _, _, _, table, *_ = carriers.update_carriers(ALL)

    assert dict(zip(found["region"], found["best_carrier"], strict=True)) == expected
    assert len(table_rows(table)) == len(expected) > 0


NAMED_REGION = re.compile(r"\S.* \(([A-Z]{2}(?:-[A-Z0-9]+)?)\)")


def region_codes(labels: Iterable[str]) -> set[str]:
    """The region codes of labels that name a region beside its code ('Jawa Barat (ID-JB)');
    a label without a name is left out, so a set compared with codes shows it."""
    return {m.group(1) for m in map(NAMED_REGION.fullmatch, labels) if m}


def test_the_npr_heatmap_names_each_region_beside_its_code(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    _, heatmap, *_ = page("carriers").update_charts(ALL, None)

    assert region_codes(heatmap.data[0].y) == set(shop["carrier_scans"]["region"].unique())


def test_the_region_filter_offers_each_region_by_name_in_the_names_order(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    options = find(app.layout(), "filter-region-dropdown").options
    labels = [o["label"] for o in options]

    assert {o["value"] for o in options} == region_codes(labels)
    assert set(shop["carrier_scans"]["region"].unique()) <= {o["value"] for o in options}
    assert labels == sorted(labels)


def test_the_cost_breakdown_by_region_names_each_region(app: dash.Dash) -> None:
    figure, table = page("costs").update_breakdown(ALL, "ship_region")

    shown = [row[0] for row in table_rows(table)]
    assert shown and len(region_codes(shown)) == len(shown)
    assert set(figure.data[0].y) == set(shown)


def test_carriers_tables_name_each_region_beside_its_code(app: dash.Dash) -> None:
    _, _, scorecard, recommendation, *_ = page("carriers").update_carriers(ALL)

    regions = [r[1] for r in table_rows(scorecard)] + [r[0] for r in table_rows(recommendation)]
    assert regions and all(re.fullmatch(r"\S.* \([A-Z]{2}(-[A-Z0-9]+)?\)", r) for r in regions)


def test_carriers_category_filter_is_said_not_to_apply(app: dash.Dash) -> None:
    notes, *_ = page("carriers").update_carriers(_state(category=["shoes"]))

    assert "do not apply" in text(notes)


def test_the_scorecard_shows_the_z_of_the_flag_right_beside_the_flag(app: dash.Dash) -> None:
    carriers = page("carriers")

    _, _, scorecard, *_ = carriers.update_carriers(ALL)

    header = table_header(scorecard)
    assert header.count("z") == 1 and header[header.index("Flag") + 1] == "z"
    top = carriers.scorecard(to_filters(ALL)).row(0, named=True)
    assert table_rows(scorecard)[0][3] == format_value(top["flag_z"], "z")


def test_the_scorecard_flag_leaves_its_dates_to_the_worst_window_columns(
        app: dash.Dash) -> None:
    _, _, scorecard, *_ = page("carriers").update_carriers(ALL)

    flags = [row[2] for row in table_rows(scorecard) if row[2].startswith("was worse")]
    assert flags and set(flags) == {"was worse"}


def test_npr_over_time_has_a_panel_per_carrier_and_per_region_of_a_chosen_carrier(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    carriers = page("carriers")
    scans = shop["carrier_scans"]
    chosen = scans["carrier"].mode()[0]

    every, *_ = carriers.update_charts(ALL, None)
    one, *_ = carriers.update_charts(ALL, chosen)

    titles = {a.text for a in every.layout.annotations}
    assert set(scans["carrier"].unique()) <= titles
    regions = set(scans.filter(pl.col("carrier") == chosen)["region"].unique())
    assert regions <= region_codes(a.text for a in one.layout.annotations)


def test_npr_over_a_week_draws_no_trend_and_says_to_choose_a_longer_range(
        app: dash.Dash) -> None:
    carriers = page("carriers")

    trend, *_ = carriers.update_charts(_state(**{"from": "2025-06-09", "to": "2025-06-15"}),
                                       None)

    assert not trend.data
    assert "Choose a longer range" in trend.layout.annotations[0].text


def test_npr_over_time_leaves_out_periods_of_few_attempts_and_bands_the_rest(
        app: dash.Dash) -> None:
    carriers = page("carriers")
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(40)]
    weekly = pl.DataFrame({"panel": "A", "carrier": "A", "week": weeks,
                           "attempts": [100] * 39 + [3], "failed_attempts": [10] * 39 + [3]})

    periods, period_weeks = carriers.trend_periods(weekly)

    assert period_weeks == 1
    assert periods.filter(pl.col("period") == weeks[-1])["rate"].to_list() == [None]
    kept = periods.filter(pl.col("rate").is_not_null())
    assert kept.height == 39 and (kept["rate_low"] < kept["rate"]).all()


def test_npr_over_time_draws_longer_periods_when_weeks_are_thin(app: dash.Dash) -> None:
    carriers = page("carriers")
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(52)]
    weekly = pl.DataFrame({"panel": "A", "carrier": "A", "week": weeks,
                           "attempts": [6] * 52, "failed_attempts": [1] * 52})

    periods, period_weeks = carriers.trend_periods(weekly)

    assert period_weeks == 4
    assert periods["attempts"].sum() == 6 * 52
    assert periods.filter(pl.col("rate").is_not_null()).height == 13


def test_a_carrier_keeps_its_colour_on_every_chart_and_under_any_filter(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    carriers = page("carriers")
    scans = shop["carrier_scans"]
    served = scans.group_by("region").agg(pl.col("carrier").n_unique()).sort("carrier")
    region = served["region"][0]  # a region not every carrier serves

    def colours(state: dict[str, object]) -> dict[str, set[str]]:
        trend, _, _, weekday = carriers.update_charts(state, None)
        _, times, _ = carriers.update_times(state, None, "pickup_tat_days")
        found: dict[str, set[str]] = {}
        for t in trend.data:
            if t.name:
                found.setdefault(t.name, set()).add(t.line.color)
        for t in weekday.data:
            found.setdefault(t.name, set()).add(t.marker.color)
        for t in times.data:
            found.setdefault(t.name, set()).add(t.line.color)
        return found

    everywhere, in_region = colours(ALL), colours(_state(region=[region]))

    assert all(len(c) == 1 for c in everywhere.values())
    assert len(set().union(*everywhere.values())) == scans["carrier"].n_unique()
    assert set(in_region) < set(everywhere)
    assert all(in_region[name] == everywhere[name] for name in in_region)


def test_the_carrier_chosen_drives_every_chart_and_the_per_carrier_table(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    carriers = page("carriers")
    scans = shop["carrier_scans"]
    chosen = scans["carrier"].mode()[0]
    regions = set(scans.filter(pl.col("carrier") == chosen)["region"].unique())

    _, heatmap, reasons, weekday = carriers.update_charts(ALL, chosen)
    attempts, times, table = carriers.update_times(ALL, chosen, "pickup_tat_days")

    assert list(heatmap.data[0].x) == [chosen]
    assert region_codes(x for t in reasons.data for x in t.x) == regions
    assert {t.name for t in weekday.data} == {t.name for t in times.data} == {chosen}
    assert {x for t in attempts.data for x in t.x} == {chosen}
    assert [row[0] for row in table_rows(table)] == [chosen]


def test_failure_reasons_are_rates_of_all_attempts_adding_up_to_the_carriers_npr(
        app: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    attempts = pickup_attempts(shop).group_by("carrier").agg(
        npr=(pl.col("event_code") == "pickup_failed").mean())

    _, _, reasons, _ = page("carriers").update_charts(ALL, None)

    stacked: dict[str, float] = {}
    for trace in reasons.data:
        for carrier, rate in zip(trace.x, trace.y, strict=True):
            stacked[carrier] = stacked.get(carrier, 0.0) + rate
    assert stacked == pytest.approx(dict(attempts.iter_rows()))
    assert reasons.layout.yaxis.tickformat == ".1~%"


@pytest.mark.parametrize("measure", ["pickup_tat_days", "request_to_warehouse_days",
                                     "cycle_days"])
def test_the_per_carrier_table_shows_the_time_chosen(app: dash.Dash, measure: str) -> None:
    carriers = page("carriers")
    expected = carriers.summary(to_filters(ALL)).row(0, named=True)

    _, _, table = carriers.update_times(ALL, None, measure)

    assert f"{carriers.MEASURE_HEADERS[measure]} p50" in table_header(table)
    assert table_rows(table)[0][-2:] == [format_value(expected[f"{measure}_p50"], "num"),
                                         format_value(expected[f"{measure}_p90"], "num")]


def test_quality_page_shows_the_failed_expectations_and_the_quarantined_rows(
        small_shop_dir: Path, prefect_harness: None, tmp_path: Path) -> None:
    import shutil

    from dashboard.app import create_app
    from flows.pipeline import pipeline

    source = tmp_path / "shop"
    shutil.copytree(small_shop_dir, source)
    returns = pl.read_parquet(source / "returns.parquet")
    returns.with_columns(refund_amount=pl.when(pl.int_range(pl.len()) == 0)
                         .then(pl.lit(999_999.0)).otherwise(pl.col("refund_amount"))
                         ).write_parquet(source / "returns.parquet")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=source, db=url)
    create_app(url)

    _, _, _, _, expectations, _, quarantined, *_ = page("quality").update_quality("/quality")

    assert "refund_within_paid" in text(expectations)
    assert "more than the" in text(expectations)
    assert "refund_within_paid" in text(quarantined) and "rejected" in text(quarantined)


def test_the_breadcrumb_names_a_one_size_product_once(app: dash.Dash) -> None:
    crumbs = page("products").breadcrumb(
        {"category": "gifts", "product_id": "20952", "sku": "20952"})

    assert text(crumbs).split() == ["All", "categories", "›", "gifts", "›", "20952"]
def test_quality_page_shows_the_source_folder_not_its_server_path(
        no_scans_warehouse_url: str, small_shop_dir: Path) -> None:
    from dashboard.app import create_app

    create_app(no_scans_warehouse_url)

    _, _, runs, *_ = page("quality").update_quality("/quality")

    assert str(small_shop_dir.parent) not in text(runs)
    assert "no_scans_shop" in text(runs)  # the folder the run read, by name


def test_the_vendor_trend_before_any_scores_points_to_the_message_not_to_empty_axes(
        app: dash.Dash) -> None:
    _, trend, *_ = page("vendors").update_vendor(None)

    assert trend.layout.annotations[0].text == "No vendor to show: see the message above"


def test_a_defect_rate_label_never_shows_minus_zero(app: dash.Dash) -> None:
    rates = pl.DataFrame({"defect_rate": [0.0], "defect_rate_low": [-1e-18],
                          "defect_rate_high": [0.0]})

    label = rates.select(page("vendors").rate_with_interval()).item()

    assert label == "0.0% (0.0–0.0%)"
