"""The house shows the pipeline: each stage is a folder, and imports only run down the stages
(core -> intake -> checks -> tables -> outputs -> pipeline / cli), lazy imports included."""

import ast

from flows.core.settings import PROJECT_ROOT

STAGES = ["core", "intake", "checks", "tables", "outputs"]
TOP = len(STAGES)  # pipeline, cli/, lock, processes, serving: the flow and the command on top


def stage_of(module: str) -> int:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else TOP


def imports(path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flows"):
            found += [node.module] if node.module != "flows" and node.module not in (
                f"flows.{s}" for s in STAGES) else [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("flows")]
    return found


def test_every_module_lives_in_a_stage_or_on_top():
    loose = sorted(p.name for p in (PROJECT_ROOT / "flows").glob("*.py"))
    assert loose == ["__init__.py", "inputs.py", "lock.py", "pipeline.py", "processes.py",
                     "serving.py"]
    packages = sorted(p.parent.name for p in (PROJECT_ROOT / "flows").glob("*/__init__.py"))
    assert packages == sorted([*STAGES, "cli"])  # cli: the command, one module per command


def test_imports_only_run_down_the_stages():
    upward = []
    for path in sorted((PROJECT_ROOT / "flows").rglob("*.py")):
        module = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        for imported in imports(path):
            if stage_of(imported) > stage_of(module):
                upward.append(f"{module} imports {imported}")
    assert upward == []
