"""Runs the Python examples of docs/python.md (every ```python block, in order, in one namespace)."""

import pathlib
import re

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"


def test_docs_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, f"no python example in {DOC}"
    namespace = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
