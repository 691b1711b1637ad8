"""The layering and the one-op-one-place rules, checked on the source tree.

- codegen imports nothing from mcuq (mcuq lowers its graph into codegen's Program);
- the core never imports the speech application (mcuq.speech), only the CLI does;
- no command imports another command's module;
- every registered op kind has its module, a template with params_/call_ macros for
  each precision it has, one kernel file per precision defining its kernel, and its
  own test file.
"""
import ast
import re
from pathlib import Path

import pytest

from mcuq.ops import kinds, op
from mcuq.ops.base import SUFFIX
from mcuq.layouts import ISAS, KERNEL_FOLDERS

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {"mcuq.export", "mcuq.verify", "mcuq.bench", "mcuq.speech.enhance",
            "mcuq.speech.evaluate", "mcuq.speech.commands", "mcuq.vision.evaluate",
            "mcuq.vision.commands"}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).replace(".__init__", "")


def test_codegen_does_not_import_mcuq():
    for path in (ROOT / "codegen").glob("*.py"):
        assert not {m for m in imports(path) if m.split(".")[0] == "mcuq"}, path


@pytest.mark.parametrize("application", ["speech", "vision"])
def test_core_does_not_import_an_application(application):
    for path in (ROOT / "mcuq").rglob("*.py"):
        if application in path.parts or path.name == "cli.py":
            continue
        assert not {m for m in imports(path) if m.startswith(f"mcuq.{application}")}, path


def test_no_command_imports_another_command():
    for path in (ROOT / "mcuq").rglob("*.py"):
        name = module_name(path)
        if name in COMMANDS:
            others = {m for m in imports(path) if m in COMMANDS - {name}}
            if name in ("mcuq.speech.commands", "mcuq.vision.commands"):  # CLI groups
                continue
            assert not others, (name, others)


@pytest.mark.parametrize("kind", kinds())
def test_op_lives_in_one_place(kind):
    spec = op(kind)
    assert (ROOT / "mcuq" / "ops" / f"{kind}.py").is_file()
    assert (ROOT / "tests" / "ops" / f"test_{kind}.py").is_file(), "every op has its own test"
    if not spec.PRECISIONS:
        return  # graph-only: a pass removes it
    template = (ROOT / "templates" / "ops" / f"{spec.TEMPLATE}.c.j2").read_text()
    header = (ROOT / "firmware" / "kernels" / spec.HEADER).read_text()
    for precision in spec.PRECISIONS:
        suffix = SUFFIX[precision]
        assert f"macro params_{suffix}(" in template and f"macro call_{suffix}(" in template
        for isa in ISAS:  # the kernel is in one of the ISA's folders, the last one winning
            sources = [ROOT / "firmware" / "kernels" / folder / f"{kind}_{suffix}.c"
                       for folder in KERNEL_FOLDERS[isa]]
            source = [s for s in sources if s.is_file()][-1]
            assert re.search(rf"\bmcuq_{kind}_{suffix}\(", source.read_text()), source
        assert re.search(rf"\bmcuq_{kind}_{suffix}\(", header), spec.HEADER
