"""Browser tests: the dashboard in headless Chromium."""
