"""The README tells the truth: every command in it is run by a test, every figure is in the results it cites.

Commands: each one of a shell block is named by a ``readme_command("...")`` or ``run_readme("...")`` somewhere
in the tests (``make test`` by ``.ci/run``), each Python block by ``readme_python(...)``, unless its block is an illustration.
Figures: a paragraph or a table row that links a file of ``benchmark/results/`` quotes only decimals that
file holds (a table takes the links of the paragraph that introduces it too).
"""

import ast
import os
import re
import subprocess
import sys

import pytest

from idx_files import write_tiny_idx_dir
from readme import (DOCUMENTS, ILLUSTRATION, REPO, code_blocks, commands_to_run, prose, readme_python,
                    shell_commands, words)

_LINK = re.compile(r"\]\(([^)#\s]+\.md)\)")
_DECIMAL = re.compile(r"(?<![\w.])\d[\d,]*\.\d+(?![\w.])")
# Version numbers are not measured figures.
_VERSION = re.compile(r"(?:TensorFlow|Keras|Python|CPython|PyTorch|torch|scikit-learn|ai-edge-litert|tflite-runtime"
                      r"|keras>=|[Rr]elease|arXiv:)\s*[\d.]+")


def _named_in_tests(*functions):
    """The first arguments of every call of one of ``functions`` in the tests, as literal strings."""
    named = set()
    for path in (REPO / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in functions and node.args
                    and isinstance(node.args[0], ast.Constant)):
                named.add(node.args[0].value)
    return named


def test_every_shell_command_is_run_by_a_test_or_marked_an_illustration():
    run_by_ci = {words(line) for line in (REPO / ".ci" / "run").read_text().splitlines() if words(line)}
    named = {words(text) for text in _named_in_tests("readme_command", "run_readme")} | run_by_ci
    unrun = [(block.where, " ".join(command)) for block in code_blocks("sh") if not block.illustration
             for command in shell_commands(block) if command not in named]
    assert not unrun, f"README commands no test runs (run them, or open their block with {ILLUSTRATION!r}): {unrun}"
    assert named - run_by_ci <= commands_to_run()  # readme_command() refuses the others itself


def test_every_python_block_is_run_by_a_test_or_marked_an_illustration():
    named = _named_in_tests("readme_python")
    unrun = [block.where for block in code_blocks("python") if not block.illustration
             and not any(block.source.startswith(first_line) for first_line in named)]
    assert not unrun, f"README Python blocks no test runs: {unrun}"


def test_an_illustration_says_what_runs_it_instead():
    bare = [block.where for language in ("sh", "python") for block in code_blocks(language)
            if block.illustration and len(block.source.split("\n", 1)[0]) < len(ILLUSTRATION) + 20]
    assert not bare, f"illustrations that do not say what runs them instead: {bare}"


def _sourced_passages(document):
    """(text, links) of each paragraph and table row of ``document`` outside code blocks."""
    paragraphs = re.split(r"\n\s*\n", prose(document.read_text()))
    introduction = []
    for paragraph in paragraphs:
        if paragraph.lstrip().startswith("|"):
            for row in paragraph.strip().splitlines():
                yield row, _LINK.findall(row) + introduction
        else:
            introduction = _LINK.findall(paragraph)
            yield paragraph, introduction


def _figure_mismatches(document):
    for text, links in _sourced_passages(document):
        cited = [(document.parent / link).resolve() for link in links]
        results = [path for path in cited if path.parent == REPO / "benchmark" / "results"]
        if not results:
            continue
        held = "".join(path.read_text() for path in results if path.exists())
        for figure in set(_DECIMAL.findall(_VERSION.sub("", text))):
            if figure not in held:
                yield f"{document.name}: {figure} not in {', '.join(path.name for path in results)}: {text[:80]!r}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_each_figure_is_in_the_results_file_its_passage_cites(document):
    mismatches = list(_figure_mismatches(document))
    assert not mismatches, "\n".join(mismatches)


def test_each_results_link_names_a_file_that_exists():
    missing = [(document.name, link) for document in DOCUMENTS for _, links in _sourced_passages(document)
               for link in links if not (document.parent / link).exists()]
    assert not missing, missing


def test_the_table_of_contents_lists_every_section_in_order():
    readme = (REPO / "README.md").read_text()
    sections = re.findall(r"^## (.+)$", prose(readme), re.MULTILINE)
    listed = re.findall(r"^- \[(.+?)\]\(#[\w-]+\)$", readme, re.MULTILINE)
    assert listed == sections


def _run_python(source, cwd, replace=None):
    for old, new in (replace or {}).items():
        source = source.replace(old, new)
    result = subprocess.run([sys.executable, "-c", source], cwd=cwd, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_csv_files_are_written_as_the_readme_writes_them(tmp_path):
    write_tiny_idx_dir(tmp_path / "data" / "fashion")
    _run_python(readme_python("from fmnist_tf import data\nfor split"), tmp_path)
    header, first = (tmp_path / "data" / "fashion" / "fashion-mnist_train.csv").read_text().splitlines()[:2]
    assert header.startswith("label,pixel1,") and len(first.split(",")) == 785


@pytest.mark.real_data
@pytest.mark.skipif(not (REPO / "data" / "fashion" / "train-images-idx3-ubyte.gz").exists(),
                    reason="run `make data` first")
def test_the_library_example_trains_evaluates_predicts_and_exports(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "fashion").symlink_to(REPO / "data" / "fashion")
    stdout = _run_python(readme_python("from fmnist_tf import data, estimator"), tmp_path,
                         replace={"/tmp/m": str(tmp_path / "m"), "steps=500": "steps=3"})
    assert "'global_step': 3" in stdout
    assert (tmp_path / "m" / "export").is_dir()
