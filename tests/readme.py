"""The commands of the README and docs/ as the tests run them.

A test names a command by its text, exactly as printed: ``readme_command("python -m fmnist_tf.evaluate ...",
replace={"runs/convnet": str(model_dir)})`` returns its argv with paths swapped for the test's own (and smoke
settings where the text says so). A README edit that changes a tested command fails that test, and
``tests/test_readme.py`` fails on a command no test runs: a code block that only illustrates opens with the
line ``# An illustration``, saying what runs it instead.
"""

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
ILLUSTRATION = "# An illustration"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_FENCED = re.compile(r"^```.*?^```$", re.MULTILINE | re.DOTALL)


def prose(text):
    """``text`` without its fenced blocks, of any language or none."""
    return _FENCED.sub("", text)


@dataclass(frozen=True)
class CodeBlock:
    document: Path
    line: int
    language: str
    source: str

    @property
    def illustration(self):
        return self.source.startswith(ILLUSTRATION)

    @property
    def where(self):
        return f"{self.document.relative_to(REPO)}:{self.line}"


def code_blocks(language):
    """The fenced blocks of ``language`` in the README and docs/, in document order."""
    for document in DOCUMENTS:
        text = document.read_text()
        for match in _BLOCK.finditer(text):
            if match.group(1) == language:
                yield CodeBlock(document, text.count("\n", 0, match.start()) + 1, language, match.group(2))


def words(command):
    """A shell command as its words: quoting, spacing and a trailing ``# comment`` do not count."""
    return tuple(shlex.split(command, comments=True))


def shell_commands(block):
    """The commands of a shell block, each line continued with a backslash joined to the next."""
    joined = re.sub(r"\\\n\s*", " ", block.source)
    return [words(line) for line in joined.splitlines() if words(line)]


def commands_to_run():
    """The words of every command in a shell block that is not an illustration."""
    return {command for block in code_blocks("sh") if not block.illustration for command in shell_commands(block)}


def readme_command(text, replace=None, append=(), python=sys.executable):
    """argv of the README command ``text``: each word with ``replace``'s substrings swapped, then ``append``.

    ``python`` stands for the interpreter; a console script or ``.venv/bin/X`` for the one beside it.
    """
    command = words(text)
    assert command in commands_to_run(), f"`{text}` is not a command of the README or docs/ (outside illustrations)"
    argv = [_swap(word, replace or {}) for word in command]
    return [_program(argv[0], Path(python)), *argv[1:], *map(str, append)]


def _swap(word, replace):
    """``word`` with each key of ``replace`` swapped for its value, longest first, in one pass."""
    if not replace:
        return word
    pattern = "|".join(map(re.escape, sorted(replace, key=len, reverse=True)))
    return re.sub(pattern, lambda match: str(replace[match.group()]), word)


def _program(word, python):
    if word in ("python", "python3"):
        return str(python)
    script = python.parent / word.removeprefix(".venv/bin/")
    return str(script) if script.exists() else word


def readme_python(first_line):
    """The source of the README's Python block that starts with ``first_line``."""
    sources = [block.source for block in code_blocks("python") if block.source.startswith(first_line)]
    assert len(sources) == 1, f"{len(sources)} Python blocks of the README start with {first_line!r}"
    return sources[0]
