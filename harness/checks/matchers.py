"""Expected values a source fixture cannot state exactly, only what they must contain: the
text an extraction service returns for a PDF depends on the engine's layout, but every
sentence the fixture wrote into the file must be in it. A matcher is a ``str`` (so it
prints and serialises as its description) whose equality is the check."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any


def _collapsed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class ContainsSentences(str):
    """Equal to any text that holds every one of ``sentences`` (whitespace collapsed:
    line breaks a format adds are not part of a sentence)."""

    sentences: tuple[str, ...]

    def __new__(cls, sentences: Iterable[str]) -> ContainsSentences:
        kept = tuple(_collapsed(s) for s in sentences)
        shown = "; ".join(s[:40] for s in kept[:3])
        made = super().__new__(cls, f"<text holding {len(kept)} sentences: {shown}...>")
        made.sentences = kept
        return made

    def missing(self, text: Any) -> list[str]:
        if not isinstance(text, str):
            return list(self.sentences)
        body = _collapsed(text)
        return [s for s in self.sentences if s not in body]

    def __eq__(self, other: object) -> bool:
        return not self.missing(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__
