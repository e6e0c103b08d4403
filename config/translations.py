"""The Welsh catalogue compiled: locale/<language>/LC_MESSAGES/*.po into the .mo files Django reads (issue 22.1).

The .mo files are built, never committed: `make venv`'s users run this through `make test` and `make run`, the
image in its Dockerfile, the test suite at its start when a .po is newer than its .mo. With babel, in Python, so
no machine needs GNU gettext to run the service (only `makemessages`, which finds the texts, uses it).

Usage: python -m config.translations [--force]
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def catalogues() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def compile_catalogues(*, force: bool = False) -> list[Path]:
    """Compile each .po whose .mo is missing or older (every one with `force`); returns the .mo files written.
    A fuzzy message is left out, as msgfmt leaves it out (tests/project/test_translations.py fails on one)."""
    written = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        with mo.open("wb") as target:
            write_mo(target, catalogue, use_fuzzy=False)
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_catalogues(force="--force" in sys.argv[1:]):
        print(f"compiled {path.relative_to(LOCALE.parent)}")
