"""``python -m zammad_orm.cli``: the ``zammad-orm`` command."""

from __future__ import annotations

import sys

from zammad_orm.cli import main

if __name__ == "__main__":
    sys.exit(main())
