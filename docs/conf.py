"""Sphinx configuration: Markdown pages through MyST, the API reference through autodoc."""

from __future__ import annotations

import zammad_orm

project = "zammad_orm"
author = "zammad_orm developers"
release = zammad_orm.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
myst_heading_anchors = 3
html_theme = "alabaster"
nitpicky = False
