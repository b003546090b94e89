"""The standard-library lint scripts in tools/ (run by the pre-commit hooks) catch what they claim.

Hand-made inputs: a notebook with one output and one execution count, files of 500 KiB and
500 KiB + 1 byte against the 500 KB limit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(path, cells):
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _code(outputs=(), execution_count=None):
    return {
        "cell_type": "code",
        "id": "x",
        "metadata": {},
        "source": "1 + 1",
        "outputs": list(outputs),
        "execution_count": execution_count,
    }


def test_clean_notebook_passes(tmp_path):
    mod = _load("check_notebook_outputs")
    md = {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# t"}
    path = _notebook(tmp_path / "clean.ipynb", [md, _code()])
    assert mod.notebook_problems(path) == []
    assert mod.main([str(path)]) == 0


def test_notebook_with_outputs_and_counts_fails_naming_the_cells(tmp_path, capsys):
    mod = _load("check_notebook_outputs")
    out = {"output_type": "stream", "name": "stdout", "text": "2\n"}
    path = _notebook(tmp_path / "dirty.ipynb", [_code(), _code([out]), _code(execution_count=3)])
    assert mod.notebook_problems(path) == [
        f"{path}: cell 1 has outputs",
        f"{path}: cell 2 has an execution count",
    ]
    assert mod.main([str(path)]) == 1
    assert "cell 1 has outputs" in capsys.readouterr().out


def test_unreadable_notebook_is_a_problem_not_a_crash(tmp_path):
    mod = _load("check_notebook_outputs")
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json", encoding="utf-8")
    assert len(mod.notebook_problems(path)) == 1


@pytest.mark.parametrize(("size", "expected"), [(500 * 1024, 0), (500 * 1024 + 1, 1)])
def test_large_file_limit_is_inclusive_at_500_kib(tmp_path, size, expected):
    mod = _load("check_large_files")
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\0" * size)
    # 500 KiB exactly is allowed; one byte more rounds up to 501 KB and fails.
    assert mod.main(["--max-kb", "500", str(path)]) == expected
    assert mod.too_large([str(path)], 500) == ([(str(path), 501)] if expected else [])


def test_missing_file_is_skipped(tmp_path):
    mod = _load("check_large_files")
    assert mod.too_large([str(tmp_path / "deleted.csv")]) == []
