"""The single private cattrs Converter: wire JSON <-> model instances, datetimes and decimals."""

from __future__ import annotations
