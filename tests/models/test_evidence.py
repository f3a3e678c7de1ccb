"""The evidence pack: self-contained, and customers' words escaped."""

import re
from datetime import date

import polars as pl

from models.evidence import evidence_pack

MONTH = date(2025, 3, 1)


def _outputs(comment: str) -> dict[str, pl.DataFrame]:
    card = pl.DataFrame([{
        "vendor_id": "V1", "vendor_name": "Acme <b>Co</b>", "category": "home", "flagged": True,
        "change_date": date(2025, 3, 10), "alpha": 0.01, "vendors_tested": 12,
        "rate_before_change": 0.02, "rate_after_change": 0.1, "defect_rate": 0.05,
        "defect_rate_low": 0.04, "defect_rate_high": 0.06, "category_defect_rate": 0.02,
        "defect_returns": 50, "returns": 90, "order_lines": 1000, "defect_cost": 1234.5,
        "excess_defect_cost": 600.0, "low_rating_share": 0.3, "reviews": 40,
        "category_low_rating_share": 0.1, "cause_disagreement_rate": 0.2}])
    return {
        "vendors_scorecard": card,
        "vendors_monthly": pl.DataFrame([{"vendor_id": "V1", "category": "home",
                                          "order_month": MONTH, "defect_rate": 0.05,
                                          "defect_rate_low": 0.04, "defect_rate_high": 0.06,
                                          "category_defect_rate": 0.02}]),
        "vendors_skus": pl.DataFrame([{"vendor_id": "V1", "sku": "S1", "size": "M",
                                       "order_lines": 1000, "defect_lines": 50,
                                       "defect_rate": 0.05, "defect_rate_low": 0.04,
                                       "defect_rate_high": 0.06, "returns": 90,
                                       "defect_cost": 1234.5, "top_text_cause": "defect"}]),
        "vendors_comments": pl.DataFrame([{"vendor_id": "V1", "sku": "S1",
                                           "feedback_date": MONTH, "source": "review",
                                           "text": comment, "text_cause": "defect",
                                           "text_confidence": 0.9, "reason_code": None,
                                           "condition": None, "rating": 1, "language": "ru"}]),
        "vendors_causes": pl.DataFrame([{"vendor_id": "V1", "source": "review",
                                         "cause": "defect", "count": 3}]),
        "vendors_cause_months": pl.DataFrame([{"vendor_id": "V1", "order_month": MONTH,
                                               "cause": "defect", "returns": 3}]),
        "vendors_inspection": pl.DataFrame([{"vendor_id": "V1", "order_month": MONTH,
                                             "condition": "defective", "returns": 3}]),
        "vendors_sku_months": pl.DataFrame([{"vendor_id": "V1", "sku": "S1",
                                             "order_month": MONTH, "returns": 3,
                                             "defect_returns": 2}]),
    }


def test_customer_text_and_names_are_escaped():
    page = evidence_pack("V1", _outputs('<script>alert("x")</script> сломался'))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; сломался" in page
    assert "Acme &lt;b&gt;Co&lt;/b&gt;" in page


def test_the_pack_embeds_plotly_and_fetches_nothing():
    page = evidence_pack("V1", _outputs("broken"))
    # plotly's bundle names a CDN only for geo maps' topojson, which the pack never draws
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert "Plotly.newPlot" in page
    assert "2025-03-10" in page
