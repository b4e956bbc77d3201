"""``QuerySet.iterator(progress=True)``: a tqdm bar over the same rows, at no extra request."""

from __future__ import annotations

from typing import Any

import pytest

import zammad_orm as zo

from .conftest import make_client, sent

Emulator: Any = pytest.importorskip("zammad_orm.testing").Emulator


def test_progress_bar_counts_the_same_rows_without_extra_requests(capsys: pytest.CaptureFixture[str]) -> None:
    with Emulator(demo=60, seed=5) as server:
        plain_client, bar_client = make_client(server), make_client(server)
        plain = [t.id for t in zo.Ticket.objects.using(plain_client).filter(state="closed").iterator(50)]
        capsys.readouterr()
        shown = [
            t.id
            for t in zo.Ticket.objects.using(bar_client).filter(state="closed").iterator(50, progress=True)
        ]
        err = capsys.readouterr().err
    assert shown == plain
    assert len(plain) > 0
    # One short page: its rows are all the rows, so the bar shows the total (and an ETA) from the start.
    assert f"Ticket: 100%|██████████| {len(plain)}/{len(plain)} [" in err.replace("\r", "\n")
    assert sent(bar_client).count == sent(plain_client).count
