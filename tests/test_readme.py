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

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_readme_names_the_commands_it_should():
    commands = readme_commands()
    assert commands[:2] == ["make demo", "make test"]
    assert any(c.startswith("mcuq export") for c in commands)
    assert any(c.startswith("mcuq corpus") for c in commands)


def test_every_readme_command_runs_as_written():
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for command in readme_commands():
        if command == "make test":
            continue
        run = subprocess.run(shlex.split(command), cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=900)
        assert run.returncode == 0, f"README command failed: {command}\n{run.stderr[-2000:]}"
