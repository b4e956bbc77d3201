"""The emulator's pytest plugin (entry point ``pytest11``): fixtures ``zammad_emulator``, ``zammad_client``.

Imports nothing heavy at load time: pytest loads it in every project that installs zammad_orm.
"""

from __future__ import annotations
