"""Every command of the README's shell blocks runs as written, in order, in the checkout
(`mcuq` and `python` from the virtualenv, as after `make`). `make test` is this suite, so
it is the one line not run here."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_blocks() -> list[list[str]]:
    """The commands of each ```sh block, comments stripped."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        commands = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
        blocks.append([c for c in commands if c and not c.startswith("#")])
    return blocks


def readme_commands() -> list[str]:
    return [c for block in readme_blocks() for c in block]


def test_readme_names_the_commands_it_should():
    commands = readme_commands()
    assert commands[:2] == ["make demo", "make test"]
    assert commands[2] == "mkdir -p out"  # the folder every later block writes to
    assert any(c.startswith("mcuq export") for c in commands)
    assert any(c.startswith("mcuq corpus") for c in commands)


@pytest.mark.parametrize("block", range(len(readme_blocks())))
def test_every_readme_command_runs_as_written(block):
    """Block by block, so that the suite's workers share them; each block after the first
    needs only the README's `mkdir -p out`, run first."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    commands = readme_blocks()[block]
    if block > 0:
        commands = ["mkdir -p out"] + commands
    for command in commands:
        if command == "make test":
            continue
        run = subprocess.run(shlex.split(command), cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=900)
        assert run.returncode == 0, f"README command failed: {command}\n{run.stderr[-2000:]}"
