"""The one HTTP choke point: auth, impersonation, timeouts, retries, logging, status to exception."""

from __future__ import annotations
