"""How text is compared: case- and accent-insensitive words.

``fold`` decomposes a text (Unicode NFKD), drops the combining marks (accents) and case-folds what
is left, so ``Crème``, ``CREME`` and ``crème`` are the same word; ``ß`` folds to ``ss`` and the
ligature ``ﬁ`` to ``fi``. A word is a run of letters, digits or ``_`` after folding; everything else
separates words. No typo tolerance, plurals, stop words, synonyms or language-specific
segmentation (CJK text is one word per run of characters).
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """``text`` without accents and case (see the module's docstring)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order (repeats kept)."""
    return _WORD.findall(fold(text))


def word_spans(text: str) -> list[tuple[int, int]]:
    """Where each word of ``text`` (unfolded) starts and ends, for highlighting."""
    return [match.span() for match in _WORD.finditer(text)]
