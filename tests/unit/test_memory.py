"""``zammad_orm._memory``: what a whole result defers, and when it runs."""

from __future__ import annotations

import gc
from typing import Any

from zammad_orm import _memory


class Writer:
    def __init__(self) -> None:
        self.released = 0
        self.ready: list[Any] = []

    def release(self, ready: Any = None) -> None:
        self.released += 1
        self.ready.append(ready)


def test_callbacks_run_when_the_reader_waits_and_once_the_result_is_read() -> None:
    writer = Writer()
    assert _memory.after_whole_result(writer.release) is False  # no whole result read: nothing deferred
    with _memory.whole_result():
        assert _memory.after_whole_result(writer.release, on_wait=True) is True
        assert _memory.after_whole_result(writer.release, on_wait=True) is True  # the same: registered once
        at_end = Writer()
        assert _memory.after_whole_result(at_end.release) is True  # at the end only
        assert writer.released == 0
        came = lambda: False  # noqa: E731
        _memory.reader_waits(came)
        assert writer.released == 1
        assert writer.ready == [came]  # told how to see that the page came
        with _memory.whole_result():  # a block inside another changes nothing
            assert _memory.after_whole_result(writer.release) is True
        assert writer.released == 1
    assert writer.released == 2  # the result is read
    assert writer.ready == [came, None]
    assert at_end.released == 1
    _memory.reader_waits()  # outside a whole result: nothing registered any more
    assert writer.released == 2


def test_a_whole_result_that_fails_still_runs_its_callbacks_and_unfreezes() -> None:
    writer = Writer()
    gc.unfreeze()
    try:
        with _memory.whole_result():
            _memory.after_whole_result(writer.release)
            _memory.BulkLoad(stream=False).page_done()
            assert gc.get_freeze_count() > 0
            raise RuntimeError("a page failed")
    except RuntimeError:
        pass
    assert writer.released == 1
    assert gc.get_freeze_count() == 0


def test_a_page_outside_a_whole_result_freezes_nothing() -> None:
    gc.unfreeze()
    _memory.BulkLoad(stream=False).page_done()
    assert gc.get_freeze_count() == 0
