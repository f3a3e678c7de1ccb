"""The dashboard's pages: each module registers itself with dash.register_page."""
