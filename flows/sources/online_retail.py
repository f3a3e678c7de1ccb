"""UCI Online Retail II → contract feeds: sales as orders, "C" credit lines as linked returns.

The rules (docs/real-data.md says why each is as it is):
- Every source line gets exactly one class: `sale`, `return` (a product line on a C invoice),
  `non_product` (fees, postage, manual entries, vouchers, tests: the stock code is not a
  product code), `stock_adjustment` (a product line outside C invoices with a negative quantity
  or no price: the warehouse correcting stock, not a customer), or `unusable` (a required field
  is missing or a C line has a positive quantity).
- A product code starts with the catalogue's five-digit number (85123A, 15056BL) or is a code
  of the web shop's own range (DCGS…, SP…): `PRODUCT_CODE`. Codes are upper-cased
  (18098c and 18098C are one SKU) and trimmed.
- A return is linked to the sale it reverses: same customer and SKU, ordered strictly before
  the credit note, the latest such sale whose not-yet-returned quantity covers the return.
  Returns are taken in credit-note order. Returns without a customer, or with no such sale,
  stay unlinked: they cannot name an order line, so they are counted and kept in
  `_side/excluded_lines.parquet`, never loaded as returns.
- An invoice found in several files or sheets (the UCI workbook's two sheets overlap in
  December 2010) is kept once, from the first file in name order.
"""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path

import polars as pl

from flows.sources import AdapterReport, register
from flows.sources.tabular import (
    identifier,
    number,
    read_table,
    rename_aliases,
    share,
    side_dir,
    table_files,
    text,
    timestamp,
    write_feed,
)
from warehouse.contract import CURRENCY_NOTE

KIND = "online-retail-ii"
PRODUCT_CODE = r"^(\d{5}|DCGS|SP\d)"
GUEST = "GUEST"
VENDOR_ID = "unknown"
HOME_COUNTRY = "GB"

COLUMN_ALIASES = {
    "invoice": ("Invoice", "InvoiceNo"),
    "stock_code": ("StockCode",),
    "description": ("Description",),
    "quantity": ("Quantity",),
    "invoice_date": ("InvoiceDate",),
    "price": ("Price", "UnitPrice"),
    "customer": ("Customer ID", "CustomerID"),
    "country": ("Country",),
}

# The dataset's country names → ISO 3166-1 alpha-2.
COUNTRY_CODES = {
    "Australia": "AU", "Austria": "AT", "Bahrain": "BH", "Belgium": "BE", "Bermuda": "BM",
    "Brazil": "BR", "Canada": "CA", "Cyprus": "CY", "Czech Republic": "CZ", "Denmark": "DK",
    "EIRE": "IE", "Finland": "FI", "France": "FR", "Germany": "DE", "Greece": "GR",
    "Hong Kong": "HK", "Iceland": "IS", "Ireland": "IE", "Israel": "IL", "Italy": "IT",
    "Japan": "JP", "Korea": "KR", "Lebanon": "LB", "Lithuania": "LT", "Malta": "MT",
    "Netherlands": "NL", "Nigeria": "NG", "Norway": "NO", "Poland": "PL", "Portugal": "PT",
    "RSA": "ZA", "Saudi Arabia": "SA", "Singapore": "SG", "Spain": "ES", "Sweden": "SE",
    "Switzerland": "CH", "Thailand": "TH", "USA": "US", "United Arab Emirates": "AE",
    "United Kingdom": "GB",
}
EUROPE = frozenset({"AT", "BE", "CH", "CY", "CZ", "DE", "DK", "ES", "FI", "FR", "GR", "IE",
                    "IS", "IT", "LT", "MT", "NL", "NO", "PL", "PT", "SE"})
# Names the dataset uses that are no single ISO country, and their shipping zone.
NON_ISO_ZONES = {"Channel Islands": 2, "European Community": 2, "West Indies": 3,
                 "Unspecified": 3}

# Category heuristic: the first rule whose words occur in the description wins, else 'other'.
CATEGORY_RULES = (
    ("christmas", "CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|NATIVITY|SNOWMAN|SNOWFLAKE"),
    ("jewellery & accessories", "NECKLACE|BRACELET|EARRINGS|RING|CHARM|BEADS?|DIAMANTE|BROOCH"
                                "|HAIR ?CLIPS?|HAIRCLIP|HAIR ?BAND|PURSE|UMBRELLA|KEYRING"),
    ("candles & lighting", "CANDLES?|T-LIGHTS?|TEA ?LIGHTS?|LANTERNS?|LIGHTS?|LAMP|INCENSE"
                           "|CHANDELIER"),
    ("bags & storage", "BAGS?|BOX|BOXES|TINS?|BASKETS?|STORAGE|HAMPER|CASE"),
    ("kitchen & dining", "MUGS?|CUPS?|PLATES?|BOWLS?|TEA|TEAPOT|CAKE|CUTLERY|TRAY|JUG|SPOONS?"
                         "|NAPKINS|BAKING|BOTTLE|JAR|APRON|TOWEL|COASTERS?|SAUCER|BEAKER"),
    ("stationery & gift wrap", "CARDS?|WRAP|PAPER|NOTEBOOK|PENS?|PENCILS?|STICKERS?"
                               "|ENVELOPES?|TAPE|RIBBONS?|CALENDAR|DIARY|NOTEPAD|BOOK|ERASER"),
    ("toys & party", "TOYS?|GAME|PARTY|BALLOONS?|DOLLY?|JIGSAW|PUZZLE|CRAYONS|PLAYHOUSE"
                     "|SKIPPING|BIRTHDAY|BUNTING|TEDDY"),
    ("garden", "GARDEN|PLANT|PLANTERS?|WATERING|FEEDER|HERBS?|SEEDS?|FLOWERPOT"),
    ("home decor", "FRAME|MIRROR|CUSHION|CLOCK|SIGN|DOOR|DOORMAT|HOOKS?|DECORATION|GARLAND"
                   "|HANGING|ORNAMENT|VASE|WALL|TILE|HOLDER|PLAQUE|WREATH|QUILT|THROW"
                   "|BLANKET|RACK|DRAWERS?|CABINET|SHELF|CHAIR|STOOL|HEART"),
)

MAPPING_NOTES = {
    CURRENCY_NOTE: "GBP",  # the UCI description: prices in pounds sterling
    "default:orders.channel": "web: the source has no sales channel",
    "default:orders.payment_method": "card: the source has no payment method",
    "default:orders.discount_amount": "0: the source has no discounts per line",
    "absent:orders.promised_delivery_at": "empty: the source has no delivery data, so "
                                           "delivery promises and delays are unknown",
    "default:products.size": "ONE: the source has no sizes",
    "default:products.vendor_id": f"'{VENDOR_ID}', one placeholder vendor: the source names "
                                  "no suppliers",
    "absent:products.unit_cost": "empty: the source has no costs, so margins are unknown",
    "default:returns.requested_at": "= date of the credit note; the request itself is not "
                                    "in the source",
    "absent:returns.return_shipping_cost": "empty: not in the source",
    "absent:returns.handling_cost": "empty: not in the source",
    "absent:returns.restocking_fee": "empty: not in the source",
    "absent:returns.recovered_value": "empty: not in the source",
    "derived:products.list_price": "median price of the SKU's sale lines",
    "derived:products.category": "keyword heuristic on the description (docs/real-data.md)",
    "derived:products.product_name": "the SKU's most frequent description on its sale lines",
    "absent:orders.delivered_at": "the source has no delivery data",
    "absent:returns.reason_code": "the source records no return reasons; left empty, never "
                                  "invented",
    "absent:returns.resolution": "a credit note does not say refund or store credit",
    "absent:carrier_scans": "the source has no carrier or pickup data",
    "absent:reviews": "the source has no reviews",
}


def read_lines(source: Path) -> tuple[pl.DataFrame, list[str], int]:
    """Every invoice line of the source's files and sheets, typed, with its part and row.

    Also returns how many invoices were found in more than one part (and kept from the first).
    """
    frames, parts = [], []
    for path in table_files(source):
        for part, raw in read_table(path, as_text=path.suffix.lower() != ".parquet"):
            named = rename_aliases(raw, COLUMN_ALIASES, part)
            frames.append(named.select(
                invoice=identifier("invoice").str.to_uppercase(),
                stock_code=identifier("stock_code").str.to_uppercase(),
                description=text("description"),
                quantity=number("quantity", named.schema["quantity"]).cast(pl.Int64,
                                                                            strict=False),
                invoice_date=timestamp("invoice_date", named.schema["invoice_date"]),
                price=number("price", named.schema["price"]),
                customer=identifier("customer"),
                country=text("country").fill_null("Unspecified"),
            ).with_columns(part=pl.lit(len(parts)), row=pl.int_range(pl.len(), dtype=pl.Int64)))
            parts.append(part)
    lines = pl.concat(frames, how="vertical")
    repeated = lines.group_by("invoice").agg(pl.col("part").n_unique() > 1)["part"].sum()
    first_part = pl.col("part").min().over("invoice")
    lines = lines.filter(pl.col("invoice").is_null() | (pl.col("part") == first_part))
    return lines.with_columns(
        line_id=(pl.int_range(pl.len(), dtype=pl.Int64) + 1).over("invoice"),
        line_class=classify(),
    ), parts, repeated


def classify() -> pl.Expr:
    """The class of a line: sale, return, non_product, stock_adjustment or unusable."""
    credit = pl.col("invoice").str.starts_with("C")
    required = ("invoice", "stock_code", "quantity", "invoice_date", "price")
    missing = pl.any_horizontal(pl.col(c).is_null() for c in required)
    return (
        pl.when(missing).then(pl.lit("unusable"))
        .when(~pl.col("stock_code").str.contains(PRODUCT_CODE)).then(pl.lit("non_product"))
        .when(credit & (pl.col("quantity") < 0) & (pl.col("price") >= 0)).then(pl.lit("return"))
        .when(credit).then(pl.lit("unusable"))
        .when((pl.col("quantity") > 0) & (pl.col("price") > 0)).then(pl.lit("sale"))
        .otherwise(pl.lit("stock_adjustment"))
    )


def link_returns(sales: pl.DataFrame, returns: pl.DataFrame) -> pl.DataFrame:
    """`returns` with the order_id/line_id of the sale each reverses, or why there is none.

    Same customer and SKU, sold strictly before the credit note: the latest such sale whose
    not-yet-returned quantity covers the return. Returns are taken in credit-note order.
    """
    ordered = returns.sort("invoice_date", "invoice", "line_id")
    keys = ordered.filter(pl.col("customer").is_not_null()).select("customer", "stock_code")
    candidates = (sales.join(keys.unique(), on=["customer", "stock_code"], how="semi")
                  .sort("invoice_date", "invoice", "line_id"))
    book: dict[tuple[str, str], tuple[list, list[list]]] = {}
    for customer, code, at, invoice, line_id, quantity in candidates.select(
            "customer", "stock_code", "invoice_date", "invoice", "line_id",
            "quantity").iter_rows():
        times, entries = book.setdefault((customer, code), ([], []))
        times.append(at)
        entries.append([invoice, line_id, quantity])
    order_ids, line_ids, why = [], [], []
    for customer, code, at, quantity in ordered.select(
            "customer", "stock_code", "invoice_date", "quantity").iter_rows():
        wanted = -quantity
        times, entries = book.get((customer, code), ([], []))
        earlier = bisect_left(times, at)
        pick = next((e for e in reversed(entries[:earlier]) if e[2] >= wanted), None)
        if pick is not None:
            pick[2] -= wanted
        order_ids.append(pick[0] if pick else None)
        line_ids.append(pick[1] if pick else None)
        why.append(None if pick else "no_customer" if customer is None
                   else "no_earlier_sale" if not earlier
                   else "no_earlier_sale_with_enough_quantity")
    return ordered.with_columns(
        sale_order_id=pl.Series(order_ids, dtype=pl.String),
        sale_line_id=pl.Series(line_ids, dtype=pl.Int64),
        unlinked_reason=pl.Series(why, dtype=pl.String),
    )


def region_of(country: pl.Expr) -> pl.Expr:
    """Region code of a country name: its ISO alpha-2 code, else the name in capitals."""
    return country.replace_strict(COUNTRY_CODES, default=None).fill_null(
        country.str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", "_"))


def regions(countries: pl.Series) -> pl.DataFrame:
    """One region per country: zone 1 the shop's own country, 2 the rest of Europe, 3 beyond."""
    frame = pl.DataFrame({"region_name": countries.unique().sort()})
    iso = pl.col("region_name").replace_strict(COUNTRY_CODES, default=None)
    return frame.select(
        region=region_of(pl.col("region_name")),
        region_name="region_name",
        country=iso.fill_null("ZZ"),
        zone=pl.when(iso == HOME_COUNTRY).then(1).when(iso.is_in(list(EUROPE))).then(2)
        .when(iso.is_null()).then(pl.col("region_name").replace_strict(
            NON_ISO_ZONES, default=3, return_dtype=pl.Int64))
        .otherwise(3).cast(pl.Int64),
    )


def category_of(description: pl.Expr) -> pl.Expr:
    """The keyword category of a product description (CATEGORY_RULES), else 'other'."""
    expr = pl.lit("other")
    for category, words in reversed(CATEGORY_RULES):
        expr = pl.when(description.str.contains(rf"(?i)\b({words})\b")).then(
            pl.lit(category)).otherwise(expr)
    return expr


def products(sales: pl.DataFrame) -> pl.DataFrame:
    """One product per SKU sold: most frequent description, median price, keyword category."""
    return sales.group_by("stock_code").agg(
        product_name=pl.col("description").drop_nulls().mode().sort().first(),
        list_price=pl.col("price").median(),
    ).sort("stock_code").select(
        sku="stock_code",
        product_id="stock_code",
        product_name=pl.col("product_name").fill_null(pl.col("stock_code")),
        category=category_of(pl.col("product_name").fill_null("")),
        size=pl.lit("ONE"),
        vendor_id=pl.lit(VENDOR_ID),
        list_price="list_price",
        unit_cost=pl.lit(None, dtype=pl.Float64),
    )


def orders(sales: pl.DataFrame) -> pl.DataFrame:
    """The orders feed: one row per sale line, with the documented defaults."""
    return sales.select(
        order_id="invoice",
        line_id="line_id",
        customer_id=pl.col("customer").fill_null(GUEST),
        sku="stock_code",
        quantity="quantity",
        unit_price="price",
        discount_amount=pl.lit(0.0),
        ordered_at="invoice_date",
        channel=pl.lit("web"),
        payment_method=pl.lit("card"),
        ship_region=region_of(pl.col("country")),
        promised_delivery_at=pl.lit(None, dtype=pl.Datetime("us")),
        delivered_at=pl.lit(None, dtype=pl.Datetime("us")),
    )


def returns_feed(linked: pl.DataFrame) -> pl.DataFrame:
    """The returns feed: one customer return per linked credit line, nothing invented."""
    return linked.filter(pl.col("sale_order_id").is_not_null()).select(
        return_id=pl.col("invoice") + "-" + pl.col("line_id").cast(pl.String),
        order_id="sale_order_id",
        line_id="sale_line_id",
        sku="stock_code",
        quantity=-pl.col("quantity"),
        return_type=pl.lit("customer_return"),
        requested_at="invoice_date",
        reason_code=pl.lit(None, dtype=pl.String),
        reason_text=pl.lit(None, dtype=pl.String),
        resolution=pl.lit(None, dtype=pl.String),
        refund_amount=-pl.col("quantity") * pl.col("price"),
        return_shipping_cost=pl.lit(None, dtype=pl.Float64),
        handling_cost=pl.lit(None, dtype=pl.Float64),
        restocking_fee=pl.lit(None, dtype=pl.Float64),
        recovered_value=pl.lit(None, dtype=pl.Float64),
    )


def _notes(lines: pl.DataFrame, parts: list[str], repeated: int, linked: pl.DataFrame,
           prods: pl.DataFrame, regs: pl.DataFrame, excluded_file: Path) -> dict[str, str]:
    """The facts of this mapping, for audit.source_notes."""
    total = lines.height
    count = dict(lines.group_by("line_class").len().iter_rows())
    sales = lines.filter(pl.col("line_class") == "sale")
    non_product = lines.filter(pl.col("line_class") == "non_product")
    adjustments = lines.filter(pl.col("line_class") == "stock_adjustment")
    n_returns = linked.height
    n_linked = linked["sale_order_id"].is_not_null().sum()
    unlinked = dict(linked.group_by("unlinked_reason").len().drop_nulls().iter_rows())
    top_codes = non_product.group_by("stock_code").len().sort(["len", "stock_code"],
                                                              descending=[True, False])
    unlinked_units = linked.filter(pl.col("sale_order_id").is_null())["quantity"].sum()
    non_product_value = (non_product["quantity"] * non_product["price"]).sum()
    no_iso = regs.filter(pl.col("country") == "ZZ")["region_name"].to_list()
    return {
        "source": ", ".join(parts),
        "period": f"{lines['invoice_date'].min():%Y-%m-%d %H:%M} to "
                  f"{lines['invoice_date'].max():%Y-%m-%d %H:%M}",
        "invoice_lines": f"{total:,} (each counted once)",
        "invoices_in_several_parts": f"{repeated:,}: kept once, from the first file or sheet",
        "sale_lines": f"{share(count.get('sale', 0), total)} lines → orders "
                      f"({sales['invoice'].n_unique():,} invoices)",
        "sale_lines_without_customer": f"{share(sales['customer'].null_count(), sales.height)}"
                                       f" → customer_id '{GUEST}'",
        "return_lines": f"{n_returns:,} product lines on C (credit) invoices",
        "return_lines_linked": f"{share(n_linked, n_returns)} → returns: each to the latest "
                               "earlier sale of the same customer and SKU with enough "
                               "unreturned quantity",
        "return_lines_linked_share": f"{n_linked / n_returns:.4f}" if n_returns else "n/a",
        "return_lines_unlinked": (
            f"{n_returns - n_linked:,}: no customer {unlinked.get('no_customer', 0):,}, no "
            f"earlier sale {unlinked.get('no_earlier_sale', 0):,}, no earlier sale with enough "
            f"quantity {unlinked.get('no_earlier_sale_with_enough_quantity', 0):,}; not loaded"),
        "return_units_unlinked": f"{-unlinked_units:,}",
        "non_product_lines": (
            f"{non_product.height:,} lines (value {non_product_value:,.2f}) with a code that "
            "is not a product code (fees, postage, manual entries, discounts, vouchers, "
            "tests): "
            + ", ".join(f"{c} {n:,}" for c, n in top_codes.head(12).iter_rows())),
        "stock_adjustment_lines": (
            f"{adjustments.height:,} product lines outside C invoices with a negative quantity "
            f"({(adjustments['quantity'] < 0).sum():,}) or no price "
            f"({(adjustments['quantity'] > 0).sum():,}): stock corrections, neither sales nor "
            "customer returns"),
        "unusable_lines": f"{count.get('unusable', 0):,}",
        "excluded_lines_file": f"{excluded_file} (every line not loaded, with its class)",
        "products": f"{prods.height:,} SKUs; category from keywords for "
                    f"{share((prods['category'] != 'other').sum(), prods.height)}, "
                    "the rest 'other'",
        "regions": f"{regs.height:,} countries"
                   + (f"; without an ISO code: {', '.join(no_iso)}" if no_iso else ""),
        **MAPPING_NOTES,
    }


@register(KIND)
def online_retail_adapter(source: Path, out_dir: Path) -> AdapterReport:
    """Map Online Retail II files (Parquet, CSV or Excel; a file or a folder) onto feeds."""
    lines, parts, repeated = read_lines(source)
    sales = lines.filter(pl.col("line_class") == "sale")
    linked = link_returns(sales, lines.filter(pl.col("line_class") == "return"))
    prods = products(sales)
    regs = regions(lines["country"])
    excluded = pl.concat([
        lines.filter(~pl.col("line_class").is_in(["sale", "return"])).with_columns(
            unlinked_reason=pl.lit(None, dtype=pl.String)),
        linked.filter(pl.col("sale_order_id").is_null()).drop("sale_order_id", "sale_line_id")
        .with_columns(line_class=pl.lit("return_unlinked")),
    ], how="vertical").with_columns(source_part=pl.col("part").replace_strict(
        dict(enumerate(parts)), return_dtype=pl.String)).drop("part")
    excluded_file = side_dir(out_dir) / "excluded_lines.parquet"
    excluded.sort("source_part", "row").write_parquet(excluded_file)
    written = [
        write_feed(pl.DataFrame({"vendor_id": [VENDOR_ID],
                                 "vendor_name": ["Unknown vendor (not in the source)"],
                                 "country": ["ZZ"]}), "vendors", out_dir),
        write_feed(regs, "regions", out_dir),
        write_feed(prods, "products", out_dir),
        write_feed(orders(sales), "orders", out_dir),
        write_feed(returns_feed(linked), "returns", out_dir),
    ]
    return AdapterReport(KIND, written, _notes(lines, parts, repeated, linked, prods, regs,
                                               excluded_file))
