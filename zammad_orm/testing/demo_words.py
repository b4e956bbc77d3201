"""Vocabulary and weights of the emulator demo data: names, companies, subjects, messages, distributions.

The word lists are package data, ``data/demo_words.json`` (read once with :mod:`importlib.resources`, so
they are found in an installed wheel too); the distributions and the attachment contents are here.
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = [
    "AGENT_LINES",
    "ATTACHMENTS",
    "COMPANY_A",
    "COMPANY_B",
    "COMPANY_C",
    "CUSTOMER_LINES",
    "DEVICES",
    "FIRST",
    "GROUPS",
    "LAST",
    "PRIORITY_WEIGHTS",
    "STATE_WEIGHTS",
    "SUBJECTS",
    "SYSTEMS",
    "TAGS",
    "WORDS_FILE",
]

#: The package data file of the word lists, relative to :mod:`zammad_orm.testing`.
WORDS_FILE = "data/demo_words.json"


def _load_words() -> dict[str, list[str]]:
    text = resources.files("zammad_orm.testing").joinpath(WORDS_FILE).read_text(encoding="utf-8")
    words = json.loads(text)
    if not isinstance(words, dict) or not all(
        isinstance(v, list) and all(isinstance(w, str) for w in v) for v in words.values()
    ):
        raise ValueError(f"{WORDS_FILE}: expected an object of string lists")
    return words


_WORDS = _load_words()

FIRST = _WORDS["first"]
LAST = _WORDS["last"]
COMPANY_A = _WORDS["company_a"]
COMPANY_B = _WORDS["company_b"]
COMPANY_C = _WORDS["company_c"]
SUBJECTS = _WORDS["subjects"]
SYSTEMS = _WORDS["systems"]
DEVICES = _WORDS["devices"]
CUSTOMER_LINES = _WORDS["customer_lines"]
AGENT_LINES = _WORDS["agent_lines"]
TAGS = _WORDS["tags"]
GROUPS = _WORDS["groups"]
# (state id, weight): new, open, pending reminder, closed, merged, pending close.
STATE_WEIGHTS = [(1, 10), (2, 22), (3, 7), (4, 55), (5, 2), (7, 4)]
PRIORITY_WEIGHTS = [(1, 20), (2, 65), (3, 15)]
ATTACHMENTS = [
    ("screenshot.png", "image/png", bytes(range(256)) * 4),
    ("error.log", "text/plain", b"2024-01-01 12:00:00 ERROR something went wrong\n" * 20),
    ("invoice.pdf", "application/pdf", b"%PDF-1.4\n% demo invoice\n" + b"0" * 600),
]
