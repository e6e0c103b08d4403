"""The Welsh catalogue is complete (issue 22.1): every text the code marks for translation is in it, translated,
none fuzzy, each placeholder kept; the texts the claimant reads come out in Welsh."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.template.loader import render_to_string
from django.utils import translation

from config.translations import catalogues

ROOT = Path(__file__).resolve().parents[2]
WELSH = ROOT / "locale" / "cy" / "LC_MESSAGES"
# What `makemessages` reads, as docs/using.md tells whoever adds a text: the claimant's side only (the back office
# and the API stay in English).
MAKEMESSAGES = [
    ["makemessages", "-l", "cy", "-d", "django", "--no-location", "--ignore=templates/admin/*",
     "--ignore=templates/drf_spectacular/*", "--ignore=tests/*", "--ignore=bench/*", "--ignore=static/*"],
    ["makemessages", "-l", "cy", "-d", "djangojs", "--no-location", "--ignore=static/vendor/*", "--ignore=tests/*"],
]  # fmt: skip


def messages(path: Path) -> dict[str, object]:
    with path.open("rb") as source:
        catalogue = read_po(source)
    return {str(m.id[0] if isinstance(m.id, tuple | list) else m.id): m for m in catalogue if m.id}


def test_both_catalogues_are_there() -> None:
    assert {path.name for path in catalogues()} == {"django.po", "djangojs.po"}


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_welsh_message_is_translated_and_none_is_fuzzy(domain: str) -> None:
    path = WELSH / f"{domain}.po"
    with path.open("rb") as source:
        catalogue = read_po(source)
    assert not catalogue.fuzzy, f"{path.name}: its header is marked fuzzy"
    untranslated, fuzzy = [], []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == [], f"{path.name}: not translated"
    assert fuzzy == [], f"{path.name}: fuzzy"
    # babel's checks: the same placeholders in the Welsh as in the English, and as many plural forms as Welsh has.
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalogue.check()]
    assert problems == []


def test_the_catalogue_holds_every_text_the_code_marks(tmp_path: Path) -> None:
    """makemessages on a copy of the project finds nothing the catalogue does not hold, and nothing it holds that
    the code no longer marks (a text added without its Welsh fails here)."""
    if not shutil.which("xgettext"):
        if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: `make test` installs gettext (the Makefile's `gettext`)
            pytest.fail("xgettext is not installed (make gettext installs Debian's gettext)")
        pytest.skip("needs GNU gettext's xgettext (make gettext installs it)")
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", "node_modules", "__pycache__", "*.mo", ".*_cache", "staticfiles"
        ),
    )
    for command in MAKEMESSAGES:
        subprocess.run([sys.executable, "manage.py", *command], cwd=copy, check=True, capture_output=True)  # noqa: S603
    for domain in ("django", "djangojs"):
        found = set(messages(copy / "locale" / "cy" / "LC_MESSAGES" / f"{domain}.po"))
        kept = set(messages(WELSH / f"{domain}.po"))
        assert sorted(found - kept) == [], f"{domain}: marked in the code, missing from the Welsh catalogue"
        assert sorted(kept - found) == [], f"{domain}: in the Welsh catalogue, marked nowhere any more"


def test_the_claimants_texts_come_out_in_welsh() -> None:
    with translation.override("cy"):
        page = render_to_string("meetings/not_found.html", {"languages": []})
        subject = render_to_string("notifications/booked_subject.txt", {"department": "Adran", "when": "Dydd Iau"})
    assert '<html lang="cy">' in page
    assert "Nid yw'r ddolen hon yn ddilys" in page
    assert subject.strip() == "Eich apwyntiad fideo gyda Adran: Dydd Iau"
