"""Shared helpers for the benchmark scripts: render, install, record figures."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmarks.md"
# The scripts share the tests' helpers (tests/tools.py, tests/served.py): one copy of the
# server URLs, the clean environment and how a server is started and stopped.
sys.path.insert(0, str(ROOT))

from tests.tools import SERVER_URLS, clean_environment, tool  # noqa: E402

__all__ = ["ROOT", "SERVER_URLS", "clean_env", "tool"]


def clean_env(**extra: str) -> dict[str, str]:
    """The tests' clean environment; uv compiles bytecode once, as on a developer's machine."""
    return clean_environment() | {"UV_COMPILE_BYTECODE": "1"} | extra


def last_release() -> str:
    """The newest release commit (README: a release is the commit named `Release vX.Y.Z:`)."""
    found = subprocess.run(
        ["git", "log", "--format=%h", "--grep", "^Release v", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return found


def head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def render(destination: Path, ref: str = "HEAD", **answers: str) -> Path:
    """The template at ``ref`` (HEAD: the working tree, uncommitted changes included)."""
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    subprocess.run(
        [
            tool("copier"),
            *("copy", "--quiet", "--trust", "--defaults", "--vcs-ref", ref),
            *data,
            str(ROOT),
            str(destination),
        ],
        check=True,
    )
    return destination


def make_install(project: Path, env: dict[str, str]) -> str:
    """Run the Makefile's `install` recipe (one uv command); returns it."""
    recipe = re.search(r"^install:\n\t(.+)$", (project / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None, "no install target"
    subprocess.run(recipe[1].split(), cwd=project, env=env, check=True, capture_output=True)
    return recipe[1]


def install(project: Path) -> Path:
    """`uv sync` the project; returns its virtual environment's bin folder."""
    subprocess.run([tool("uv"), "sync", "--quiet"], cwd=project, env=clean_env(), check=True)
    return project / ".venv" / "bin"


def interpreter(bin_dir: Path) -> str:
    """The project's Python, as a sentence for the figures."""
    version = subprocess.run(
        [str(bin_dir / "python"), "-V"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"The projects ran on {version} (uv's pick for their requires-python)."


def timed(command: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    return seconds, done.stdout


# A fixed CPU-bound workload (pure Python): timed in a benchmark's run, it lets readings
# of different days be set side by side (this machine's speed drifts by tens of percent).
REFERENCE = (
    "import json, time; s = time.perf_counter(); "
    "[json.dumps({'n': i, 'v': [i * j % 97 for j in range(40)]}) for i in range(60000)]; "
    "print(time.perf_counter() - s)"
)


def reference(python: Path | str = sys.executable) -> float:
    """The reference workload's best of three on ``python``, in seconds."""
    times = [
        float(
            subprocess.run(
                [str(python), "-c", REFERENCE], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    return min(times)


def reference_line(before: float, after: float, around: str) -> str:
    """The reference workload's readings before and after ``around`` (the runs, the loads):
    a reading of another day compares through them."""
    return (
        f"Reference workload (`REFERENCE` in bench/common.py, best of 3): {before:.3f} s "
        f"before {around}, {after:.3f} s after: a reading of another day compares through it."
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{platform.machine()}, {os.cpu_count()} cores, {cpu}"


def record(section: str, lines: list[str]) -> None:
    """Replace (or add) ``## section`` in docs/benchmarks.md with ``lines``; print them."""
    heading = f"## {section}"
    stamp = f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}."
    block = "\n".join([heading, "", stamp, "", *lines]).rstrip("\n") + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    parts = text.split("\n## ")
    head, sections = parts[0], ["## " + part for part in parts[1:]]
    kept = [s.rstrip("\n") + "\n" for s in sections if not s.startswith(heading + "\n")]
    ordered = sorted([*kept, block], key=lambda s: s.splitlines()[0])
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(head.rstrip("\n") + "\n\n" + "\n".join(ordered))
    print(block)
