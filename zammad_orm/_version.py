"""The version of the zammad_orm package (single source, read by the build)."""

__version__ = "0.1.0.dev0"
