"""docs/cube.md is the registry's reference, as generated."""

from engine.cube import VARIABLES
from engine.cube_reference import markdown

from .conftest import ROOT


def test_docs_cube_reference_is_current():
    assert (ROOT / "docs" / "cube.md").read_text() == markdown(), (
        "regenerate it: python -m engine.cube_reference > docs/cube.md"
    )


def test_every_registered_variable_is_documented():
    text = markdown()
    assert all(f"| `{name}` |" in text for name in VARIABLES)
