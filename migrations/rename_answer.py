"""Rename a question's key in a project's answers file, keeping its answer.

Run by copier (``_migrations`` in copier.yml) before it updates a project made
with a release that still asked the question under its old name, so the
update keeps the user's answer instead of silently falling back to the default.

Usage: ``python rename_answer.py ANSWERS_FILE OLD_NAME NEW_NAME``
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def rename(text: str, old: str, new: str) -> str:
    """The answers file with the top-level key ``old`` renamed to ``new``.

    Unchanged when ``old`` is absent, or when ``new`` is already answered (a
    project updated before, then moved back to an old release by hand).
    """
    if re.search(rf"^{re.escape(new)}:", text, flags=re.MULTILINE):
        return text
    return re.sub(rf"^{re.escape(old)}:", f"{new}:", text, count=1, flags=re.MULTILINE)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    answers_file, old, new = Path(argv[0]), argv[1], argv[2]
    if not answers_file.is_file():
        print(f"{answers_file}: no answers file, nothing to rename", file=sys.stderr)
        return 0
    text = answers_file.read_text(encoding="utf-8")
    renamed = rename(text, old, new)
    if renamed != text:
        answers_file.write_text(renamed, encoding="utf-8")
        print(f"{answers_file}: the answer to {old!r} is now the answer to {new!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
