"""Every rule id and rule page the code, notebooks and tests cite resolves in docs/rules/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "rules"
#: Rule ids: R (response, endpoints, statistics), S (scores), T (toxicity), M (dosimetry),
#: P (metabolic response, PET).
RULE_ID = re.compile(r"(?<![\w.])([RSTMP]\d+(?:\.\d+)+)(?![\w]|\.?\d|-\d)")
#: Reference documents that live outside the repository and must not be cited.
OUTSIDE_DOCS = ("response-criteria.md", "sirt-domain.md", "survival-reference.md")


def _cited_files(*, include_tests: bool = True):
    patterns = ["sirtstats/**/*.py", "sirtstats/**/*.j2", "notebooks/*.ipynb"]
    for pattern in patterns + (["tests/*.py"] if include_tests else []):
        yield from ROOT.glob(pattern)


#: Decision ids D1-D49 (docs/rules/decisions.md); D50, D70, D90 are dose-volume metrics.
DECISION_ID = re.compile(r"(?<![\w.])(D(?:[1-4]\d|[1-9]))(?![\w.]*\d)")


def _headings() -> dict[str, str]:
    ids = {}
    for page in sorted(RULES.glob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            match = re.match(r"#+\s+([RSTMPD]\d+(?:\.\d+)*)\s", line)
            if match:
                ids[match.group(1)] = page.name
    return ids


def test_rule_pages_have_headings_for_each_chapter():
    ids = _headings()
    assert {"R1.4.1", "R5.3.7", "R6.4", "S3.1", "T4.1", "M2.6", "D14"} <= set(ids)


def test_every_cited_rule_id_has_a_heading():
    ids = _headings()
    missing = {}
    for path in _cited_files():
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8")
        for rule in RULE_ID.findall(text) + DECISION_ID.findall(text):
            if rule not in ids:
                missing.setdefault(rule, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"rule ids cited without a heading in docs/rules/: {missing}"


def test_the_id_pattern_finds_ids_and_skips_versions():
    text = "R1.4.1 and (R5.3) but not R3.5-3 nor survival 3.5 nor PR1.2x"
    assert RULE_ID.findall(text) == ["R1.4.1", "R5.3"]
    assert DECISION_ID.findall("defaults D4-D6 (D14), dose D50 and D70, D0") == ["D4", "D6", "D14"]


@pytest.mark.parametrize("document", OUTSIDE_DOCS)
def test_no_citation_of_a_document_outside_the_repository(document):
    # What a reader of the package, the notebooks or the report sees must be checkable in the
    # repository; tests may cite the developers' shared references beside their worked examples.
    citing = sorted(
        str(p.relative_to(ROOT))
        for p in _cited_files(include_tests=False)
        if document in p.read_text(encoding="utf-8")
    )
    assert not citing, f"{document} is not in the repository; cite docs/rules/ instead: {citing}"
