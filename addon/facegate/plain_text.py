"""What a name, a label or a signature may contain: text a person typed, nothing that hides.

Refused: control characters (NUL and the like end strings early in other tools and logs),
unpaired surrogates (not text at all: SQLite cannot store them, and once they made the store
answer 500), and the bidirectional embedding, override and isolate marks, which make a name
display as something else than what is stored ("Trojan Source", CVE-2021-42574): an audit
entry must read as what it says.
"""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be kept as a name, label or signature, or None."""
    for character in value:
        code = ord(character)
        if 0xD800 <= code <= 0xDFFF:
            return "contains an unpaired surrogate (not valid Unicode text)"
        if character in _BIDI_CONTROLS:
            return f"contains a text-direction control character (U+{code:04X})"
        if unicodedata.category(character) == "Cc":
            return f"contains a control character (U+{code:04X})"
    return None
