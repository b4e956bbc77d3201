"""``python -m zammad_orm``: the ``zammad-orm`` command line."""

from __future__ import annotations

import sys

from zammad_orm.cli import main

if __name__ == "__main__":
    sys.exit(main())
