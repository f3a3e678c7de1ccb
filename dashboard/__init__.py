"""The ReturnLens dashboard: a Dash app over the warehouse's marts and model outputs.

`_js_dist` is how Dash finds the scripts of a package's own components, as it finds dcc's:
any app that renders a `components.FrameTable` is served `js/frame_table.js`.
"""

from importlib.metadata import version

__version__ = version("returnlens")
_js_dist = [{"relative_package_path": "js/frame_table.js", "namespace": "dashboard"}]
