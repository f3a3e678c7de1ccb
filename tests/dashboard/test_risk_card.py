"""The Risk page's model card says what the model is made of."""

from __future__ import annotations

import dash

from tests.dashboard.conftest import page


def test_the_card_names_the_boosting_alone_when_the_validation_chose_it(app: dash.Dash) -> None:
    assert page("risk").blend_text(1.0, 1.0).startswith("The model is gradient boosting alone")


def test_the_card_gives_the_blend_weights_the_validation_chose(app: dash.Dash) -> None:
    text = page("risk").blend_text(0.6, 0.6)
    assert "60% gradient boosting, 40% logistic regression" in text
    assert "saved model" not in text


def test_the_card_says_when_the_saved_model_mixes_differently(app: dash.Dash) -> None:
    text = page("risk").blend_text(0.6, 1.0)
    assert "the saved model, refitted on every labelled line: gradient boosting alone" in text


def test_a_card_from_before_blending_says_nothing_about_it(app: dash.Dash) -> None:
    assert page("risk").blend_text(None, None) == ""


def test_a_saved_model_of_weight_zero_is_the_logistic_regression_alone(app: dash.Dash) -> None:
    assert "refitted on every labelled line: logistic regression alone" \
        in page("risk").blend_text(0.6, 0.0)


def test_model_metrics_show_the_decimals_that_tell_model_and_baseline_apart() -> None:
    from dashboard.components import format_value

    assert (format_value(0.81218, "score"), format_value(0.81093, "score")) == ("0.8122", "0.8109")


def test_the_review_queue_names_the_kinds_of_abuse_in_words(
        trained_warehouse: tuple[str, object]) -> None:
    from dashboard.app import create_app
    from models.abuse import SIGNALS
    from tests.dashboard.helpers import text

    create_app(trained_warehouse[0])
    shown = text(page("risk").update_lists(None)[0])

    assert not [s.kind for s in SIGNALS if s.kind in shown]
    assert "Serial returning" in shown or "Wardrobing" in shown
