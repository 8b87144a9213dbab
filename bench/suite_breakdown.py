"""Benchmark: where the default suite's wall time goes.

The default project (SQLite), installed by its `make install` recipe, timed from start
to exit with bytecode written: the whole suite and its collection alone, each with and
without coverage, and the suite without its property-based test. RUNS runs of each
command, interleaved; medians. The differences give start-up (interpreter, plugins,
the app's and the tests' imports, collection), test bodies, what branch coverage adds to
each, and the property-based test's share.
Usage: `uv run python bench/suite_breakdown.py`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import interpreter, make_install, median, record, render, timed

from tests.tools import clean_environment

RUNS = 3
PROPERTY_TEST = (
    "tests/integration/test_openapi_properties.py::test_every_operation_honours_the_document"
)
COMMANDS = {
    "suite, coverage on (as shipped)": [],
    "suite, coverage off": ["--no-cov"],
    "suite without the property-based test, coverage on": ["--deselect", PROPERTY_TEST],
    "suite without the property-based test, coverage off": [
        "--no-cov",
        "--deselect",
        PROPERTY_TEST,
    ],
    "collection only, coverage on": ["--collect-only"],
    "collection only, coverage off": ["--collect-only", "--no-cov"],
}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        render(project)
        env = clean_environment()
        make_install(project, env)
        pytest = [str(project / ".venv/bin/python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        timed(pytest, project, env)  # bytecode written once, as after a first run
        walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(RUNS):
            for name, args in COMMANDS.items():
                seconds, _ = timed([*pytest, *args], project, env)
                walls[name].append(seconds)
        python = interpreter(project / ".venv/bin")

    mid = {name: median(values) for name, values in walls.items()}
    shipped = mid["suite, coverage on (as shipped)"]
    property_on = shipped - mid["suite without the property-based test, coverage on"]
    property_off = (
        mid["suite, coverage off"] - mid["suite without the property-based test, coverage off"]
    )
    rows = [
        "Default project (SQLite), installed by `make install`, bytecode written. "
        f"`python -m pytest` from start to exit; medians of {RUNS} interleaved runs of each "
        "command.",
        "",
        "| command | wall | share of the suite as shipped |",
        "|---|---|---|",
        *(
            f"| {name} | {seconds:.1f} s | {seconds / shipped:.0%} |"
            for name, seconds in mid.items()
        ),
        "",
        "Derived: start-up and collection "
        f"{mid['collection only, coverage on']:.1f} s with coverage "
        f"({mid['collection only, coverage off']:.1f} s without); test bodies "
        f"{shipped - mid['collection only, coverage on']:.1f} s with coverage "
        f"({mid['suite, coverage off'] - mid['collection only, coverage off']:.1f} s without); "
        f"the property-based test {property_on:.1f} s with coverage ({property_off:.1f} s "
        "without).",
        "",
        python,
    ]
    record("Generated suite: where the time goes", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
