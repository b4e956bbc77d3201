"""The closest valid names for error messages: ``"did you mean '3 high'?"``.

Used wherever a name the user wrote is not known (fields, lookups, the names of states, priorities and
groups): the message names what was written and suggests what it probably meant. Matching, in order:
the same name in another case, names that contain the word (``high`` → ``3 high``) or are contained in
it, then :func:`difflib.get_close_matches` on the lower-cased names (misspellings such as ``opne``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean", "listing"]


def closest(word: str, names: Iterable[str], *, n: int = 3) -> list[str]:
    """Return up to ``n`` names close to ``word``, the closest first.

    Args:
        word: What was written (``"opne"``).
        names: The valid names.
        n: How many suggestions at most.

    """
    pool = sorted({name for name in names if isinstance(name, str) and name})
    folded = word.casefold().strip()
    if not folded:
        return []
    found: list[str] = [name for name in pool if name.casefold() == folded]
    if len(folded) >= 3:  # shorter words are inside too many names to mean anything
        found += [
            name
            for name in pool
            if folded in name.casefold() or (len(name) >= 3 and name.casefold() in folded)
        ]
    lowered = {name.casefold(): name for name in pool}
    found += [lowered[m] for m in difflib.get_close_matches(folded, list(lowered), n=n, cutoff=0.7)]
    return list(dict.fromkeys(found))[:n]


def did_you_mean(word: str, names: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` or ``" (did you mean 'x' or 'y'?)"``; ``""`` without a close name."""
    found = closest(word, names)
    if not found:
        return ""
    quoted = [repr(name) for name in found]
    text = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" (did you mean {text}?)"


def listing(names: Iterable[str], *, limit: int = 12) -> str:
    """Return the names quoted, comma-separated, shortened to ``limit``: ``"'a', 'b', ... (40 in all)"``."""
    pool = sorted(dict.fromkeys(str(n) for n in names))
    shown = ", ".join(repr(name) for name in pool[:limit])
    return shown + (f", ... ({len(pool)} in all)" if len(pool) > limit else "")
