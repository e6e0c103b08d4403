"""The README and docs/ as a reader uses them: every relative link and every Markdown file named in them resolves
inside the repository, and every shell example pastes as it is (valid syntax, no variable inside single quotes,
where the shell leaves it unexpanded) (issue 18.25)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "SECURITY.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^[ \t]*```(\w*)[^\n]*\n(.*?)^[ \t]*```", re.M | re.S)  # in a list item too
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
NAMED_MARKDOWN = re.compile(r"`([\w./-]+\.md)(?:#[\w-]+)?`")
SHELLS = {"sh", "bash", "shell"}


def prose(document: Path) -> str:
    """The document without its fenced code blocks."""
    return FENCE.sub("", document.read_text())


def blocks(language: set[str]) -> list[tuple[str, str]]:
    return [
        (f"{document.relative_to(ROOT)} block {n}", code)
        for document in DOCUMENTS
        for n, (info, code) in enumerate(FENCE.findall(document.read_text()))
        if info in language
    ]


def anchors(document: Path) -> set[str]:
    """GitHub's anchors for the document's headings."""
    headings = re.findall(r"^#+ (.+)$", prose(document), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def variables_in_single_quotes(code: str) -> list[str]:
    """`$NAME`, `${...}` or `$(...)` written inside single quotes, where the shell does not expand them."""
    found = []
    state = "plain"
    i = 0
    while i < len(code):
        char = code[i]
        if state == "plain":
            if char == "\\":
                i += 1
            elif char == "#" and (i == 0 or code[i - 1] in " \t\n"):
                i = code.find("\n", i)
                if i == -1:
                    break
            elif char == "'":
                state, start = "single", i
            elif char == '"':
                state = "double"
        elif state == "double":
            if char == "\\":
                i += 1
            elif char == '"':
                state = "plain"
        elif char == "'":
            quoted = code[start : i + 1]
            found += [quoted] if re.search(r"\$[A-Za-z_{(]", quoted) else []
            state = "plain"
        i += 1
    return found


def test_there_are_documents_and_examples_to_check() -> None:
    assert len(DOCUMENTS) >= 10
    assert len(blocks(SHELLS)) >= 8


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in LINK.findall(prose(document)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        missing = not resolved.is_relative_to(ROOT) or not resolved.exists()
        if missing or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_markdown_file_named_is_in_the_repository(document: Path) -> None:
    """A name in backticks (`docs/operating.md`) is read as a reference too: relative to the document or the root."""
    missing = [
        name
        for name in NAMED_MARKDOWN.findall(prose(document))
        if not any(
            (base / name).resolve().is_relative_to(ROOT) and (base / name).exists() for base in (document.parent, ROOT)
        )
    ]
    assert missing == []


@pytest.mark.parametrize(("where", "code"), blocks(SHELLS), ids=lambda value: value if " block " in value else "")
def test_shell_examples_paste_as_they_are(where: str, code: str) -> None:
    assert variables_in_single_quotes(code) == [], f"{where}: a variable inside single quotes is not expanded"
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run([bash, "-n"], input=code, capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, f"{where}: {result.stderr}"


@pytest.mark.parametrize(("where", "code"), blocks({"python"}), ids=lambda value: value if " block " in value else "")
def test_python_examples_compile(where: str, code: str) -> None:
    compile(code, where, "exec")


def test_the_scanner_finds_a_variable_in_single_quotes_and_nothing_else() -> None:
    assert variables_in_single_quotes("curl -s 'http://127.0.0.1:$PORT/api' # it's fine") == [
        "'http://127.0.0.1:$PORT/api'"
    ]
    assert variables_in_single_quotes("""curl "http://x:$PORT/?q='a'" -d '{"a": 1}' -H 'X: ${Y}'""") == ["'X: ${Y}'"]
    assert variables_in_single_quotes("""echo "it's $HOME" 'no vars here' \\' $PORT""") == []


def test_the_readme_is_short_and_says_what_a_newcomer_needs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 100
    for needed in ("make run", "make test", "create_api_token", "Authorization: Bearer", "docs/integrating.md"):
        assert needed in readme
