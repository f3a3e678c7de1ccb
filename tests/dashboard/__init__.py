"""Dashboard tests: queries, statistics, figures and callbacks, without a browser."""
