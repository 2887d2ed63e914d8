"""Text a user reads comes from the catalogue: no "sv / en" literal in the code and no
language choice in a template (issue #14)."""

import ast
import re

from flows.core.settings import PROJECT_ROOT

FLOWS = PROJECT_ROOT / "flows"
# "Swedish words / English words": a slash with spaces round it between two words
BILINGUAL = re.compile(r"\w[\w.,:;!?)'\"]* / [\w(\"'`\[]")


def literals(path):
    """Every string constant in a module, f-string parts included; docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings):
            yield node.lineno, node.value


def test_no_bilingual_literal_in_the_code():
    found = [f"{path.relative_to(PROJECT_ROOT)}:{line}: {text[:70]!r}"
             for path in sorted(FLOWS.rglob("*.py")) if path.name != "messages.py"
             for line, text in literals(path) if BILINGUAL.search(text)]
    assert found == []


def test_no_language_choice_in_a_template():
    found = [f"{path.name}:{number}" for path in sorted((FLOWS / "outputs" / "templates").glob("*"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"lang\s*==", line)]
    assert found == []


def test_the_scan_finds_what_it_looks_for(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Doc / string."""\nx = f"Filen {n} saknas / the file {n} is missing"\n'
                      'y = "kr/inv"\nz = "a / b"\n', encoding="utf-8")
    assert sorted(text for _, text in literals(module) if BILINGUAL.search(text)) == [
        " saknas / the file ", "a / b"]
