"""``python -m sirtstats.report`` runs the report; importing its ``__main__`` does not (#14)."""

from __future__ import annotations

import importlib
import runpy
import sys

import pytest

import sirtstats.report.cli_report as cli_report


def test_importing_report_main_does_not_run_a_report(monkeypatch):
    calls = []
    monkeypatch.setattr(cli_report, "main", lambda *a, **k: calls.append(a) or 0)
    monkeypatch.delitem(sys.modules, "sirtstats.report.__main__", raising=False)
    importlib.import_module("sirtstats.report.__main__")
    assert calls == []


def test_python_m_sirtstats_report_runs_the_report_command(monkeypatch):
    calls = []
    monkeypatch.setattr(cli_report, "main", lambda *a, **k: calls.append(a) or 3)
    monkeypatch.delitem(sys.modules, "sirtstats.report.__main__", raising=False)
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("sirtstats.report.__main__", run_name="__main__")
    assert stop.value.code == 3
    assert calls == [()]
