"""site_builder: a static-site generator for explainer sites built from sourced YAML facts and Markdown."""

__version__ = "0.1.0"
