"""Every combination of copier.yml's choices: rendered, checked, and its suite run."""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .matrix import (
    Combination,
    SuiteGroup,
    all_combinations,
    groups_of_shard,
    matrix_questions,
    selected_combinations,
    suite_groups,
    tree_digest,
)
from .renders import Renders, jinja_compiled_once, without_git
from .scaffolds import add_resources
from .tools import (
    clean_environment,
    load_yaml,
    pyproject_errors,
    python_for,
    require_server,
    run,
    run_suite,
    schema_errors,
    tool,
)

PACKAGE = "my_service"  # from the default project name, "My Service"

Answers = dict[str, Any]


def always(answers: Answers) -> bool:
    return True


def token_auth(answers: Answers) -> bool:
    return bool(answers["auth"] == "token")


def no_auth(answers: Answers) -> bool:
    return bool(answers["auth"] == "none")


def celery(answers: Answers) -> bool:
    return bool(answers["tasks"] == "celery")


def uses_redis(answers: Answers) -> bool:
    return token_auth(answers) or celery(answers)


# Every file a project can have, and when it has it: a rendered project holds exactly
# the files whose predicate holds for its answers, and no others.
EXPECTED_FILES: list[tuple[str, Callable[[Answers], bool]]] = [
    *(
        (path, always)
        for path in (
            ".copier-answers.yml",
            ".env.example",
            ".gitignore",
            ".pre-commit-config.yaml",
            "Makefile",
            "README.md",
            "gunicorn.conf.py",
            "pyproject.toml",
            "scripts/merge_migration_heads.py",
            "scripts/update-from-template.sh",
            "scripts/template-update-requirements.txt",
            *(
                f"src/{PACKAGE}/{name}"
                for name in (
                    "__init__.py",
                    "api/__init__.py",
                    "api/access.py",
                    "api/docs.py",
                    "api/health.py",
                    "api/posts.py",
                    "api/users.py",
                    "cli.py",
                    "config.py",
                    "database.py",
                    "delivery.py",
                    "edge.py",
                    "errors/__init__.py",
                    "exceptions.py",
                    "extensions.py",
                    "headers.py",
                    "migrations/alembic.ini",
                    "migrations/env.py",
                    "migrations/script.py.mako",
                    "migrations/versions/0001_initial.py",
                    "migrations/versions/0002_ids_never_reused.py",
                    "models.py",
                    "notifications.py",
                    "observability.py",
                    "resources/__init__.py",
                    "scaffold.py",
                    "schemas.py",
                    "services/__init__.py",
                    "services/posts.py",
                    "services/users.py",
                )
            ),
            *(
                f"tests/{name}"
                for name in (
                    "__init__.py",
                    "auth.py",
                    "conftest.py",
                    "factories.py",
                    "helpers.py",
                    "testdb.py",
                    "integration/__init__.py",
                    "integration/conftest.py",
                    "integration/test_commands.py",
                    "integration/test_errors.py",
                    "integration/test_isolation.py",
                    "integration/test_migrations.py",
                    "integration/test_openapi_properties.py",
                    "integration/test_operations.py",
                    "integration/test_posts_api.py",
                    "integration/test_users_api.py",
                    "integration/test_webhook.py",
                    "resources/__init__.py",
                    "unit/__init__.py",
                    "unit/conftest.py",
                    "unit/fakes.py",
                    "unit/test_delivery.py",
                    "unit/test_config.py",
                    "unit/test_constraints.py",
                    "unit/test_logging.py",
                    "unit/test_notifications.py",
                    "unit/test_post_service.py",
                    "unit/test_scaffold.py",
                    "unit/test_schemas.py",
                    "unit/test_user_service.py",
                )
            ),
        )
    ),
    (f"src/{PACKAGE}/migrations/versions/0003_token_keys.py", token_auth),
    (f"src/{PACKAGE}/ratelimit.py", token_auth),
    ("tests/redis_server.py", uses_redis),
    (f"src/{PACKAGE}/outbox.py", celery),
    (f"src/{PACKAGE}/worker.py", celery),
    (f"src/{PACKAGE}/heartbeat.py", celery),
    ("tests/unit/test_heartbeat.py", celery),
    (f"src/{PACKAGE}/migrations/versions/0004_deliveries.py", celery),
    (f"src/{PACKAGE}/migrations/versions/0005_revoked_tokens.py", token_auth),
    (
        f"src/{PACKAGE}/migrations/versions/0006_tokens_and_deliveries.py",
        lambda a: token_auth(a) and celery(a),
    ),
    (f"src/{PACKAGE}/security.py", token_auth),
    (f"src/{PACKAGE}/api/auth.py", token_auth),
    (f"src/{PACKAGE}/services/auth.py", token_auth),
    ("tests/integration/test_auth_api.py", token_auth),
    ("tests/integration/test_permissions.py", token_auth),
    ("tests/unit/test_security.py", token_auth),
    ("tests/integration/test_open_access.py", no_auth),
    (f"src/{PACKAGE}/errors/envelope.py", lambda a: a["error_schema"] == "envelope"),
    (f"src/{PACKAGE}/errors/problem.py", lambda a: a["error_schema"] == "problem"),
    ("tests/integration/test_read_requests.py", lambda a: a["database"] == "postgresql"),
    ("tests/unit/test_database.py", lambda a: a["database"] != "sqlite"),
    (f"src/{PACKAGE}/pool.py", lambda a: a["database"] != "sqlite"),
    ("tests/integration/test_connection_pool.py", lambda a: a["database"] != "sqlite"),
    (".github/workflows/ci.yml", lambda a: a["ci"] == "github"),
    (".github/dependabot.yml", lambda a: a["ci"] == "github"),
    (".github/workflows/template-update.yml", lambda a: a["ci"] == "github"),
    (".gitlab-ci.yml", lambda a: a["ci"] == "gitlab"),
    ("renovate.json", lambda a: a["ci"] == "gitlab"),
    ("Dockerfile", lambda a: a["docker"]),
    ("compose.yaml", lambda a: a["docker"]),
    (".dockerignore", lambda a: a["docker"]),
]

# Python sources follow PEP 8's blank lines (two between top-level definitions).
PYTHON_SOURCE = {".py", ".mako"}
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")
SERVICE_IMAGES = {"postgresql": "postgres:", "mysql": "mysql:"}
URL_SCHEMES = {"postgresql": "postgresql+psycopg://", "mysql": "mysql+pymysql://"}


def text_files(project: Path) -> list[Path]:
    return [path for path in sorted(project.rglob("*")) if path.is_file()]


def cached(cache: dict[tuple[str, str], Any], check: str, content: bytes, compute: Any) -> Any:
    """Run a deterministic check once per distinct input."""
    key = (check, hashlib.sha256(content).hexdigest())
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def lint_file(cache: dict[tuple[str, str], Any], path: Path, linter: str, *flags: str) -> str:
    """Run ``linter`` on ``path`` once per distinct content; its complaints, or ''."""

    def lint() -> str:
        result = run([tool(linter), *flags, str(path)])
        return "" if result.returncode == 0 else result.stdout + result.stderr

    return str(cached(cache, linter, path.read_bytes(), lint))


def zizmor_findings(cache: dict[tuple[str, str], Any], github: Path) -> str:
    """zizmor's findings of medium severity or more on a project's .github folder, or ''."""
    files = sorted(path for path in github.rglob("*") if path.is_file())
    content = b"".join(
        path.relative_to(github).as_posix().encode() + path.read_bytes() for path in files
    )

    def audit() -> str:
        result = run([tool("zizmor"), "--offline", "--min-severity", "medium", str(github)])
        return "" if result.returncode == 0 else result.stdout + result.stderr

    return str(cached(cache, "zizmor", content, audit))


# -- the matrix itself --------------------------------------------------------------------


def test_matrix_is_the_product_of_every_choice() -> None:
    sizes = [len(values) for values in matrix_questions().values()]

    assert len(all_combinations()) == math.prod(sizes)
    assert len({combo.id for combo in all_combinations()}) == math.prod(sizes)


def test_every_choice_value_is_in_the_executed_matrix(pytestconfig: pytest.Config) -> None:
    executed = selected_combinations(pytestconfig)

    for name, values in matrix_questions().items():
        assert {combo[name] for combo in executed} == set(values), name


def test_every_suite_group_runs_one_member(pytestconfig: pytest.Config) -> None:
    groups = suite_groups(selected_combinations(pytestconfig))

    members = [combo for group in groups for combo in group.members]
    assert sorted(members) == sorted(selected_combinations(pytestconfig))
    assert all(group.representative in group.members for group in groups)


@pytest.mark.parametrize("count", [1, 2, 4, 7])
def test_shards_split_the_matrix_without_overlap(count: int) -> None:
    groups = suite_groups(all_combinations())

    shards = [groups_of_shard(groups, index, count) for index in range(1, count + 1)]

    dealt = [group.id for shard in shards for group in shard]
    assert sorted(dealt) == sorted(group.id for group in groups)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


# -- each combination ---------------------------------------------------------------------


def test_renders_without_leftovers(
    combination: Combination, project: Path, record_property: Any
) -> None:
    record_property("matrix_checked", json.dumps({"id": combination.id}))
    problems = leftovers(project, text_files(project))
    assert problems == [], f"{combination.id}: {problems}"


def leftovers(project: Path, paths: list[Path]) -> list[str]:
    """What a careless render leaves in ``paths``: Jinja, template files, stray space."""
    problems = []
    for path in paths:
        relative = path.relative_to(project)
        if path.suffix in {".jinja", ".rej"} or path.name.endswith(".orig"):
            problems.append(f"{relative}: template leftover file")
            continue
        text = path.read_text()
        if LEFTOVER_JINJA.search(text):
            problems.append(f"{relative}: unrendered Jinja")
        if text and not text.endswith("\n"):
            problems.append(f"{relative}: no final newline")
        if text.endswith("\n\n"):
            problems.append(f"{relative}: blank lines at the end")
        if re.search(r"[ \t]+$", text, re.MULTILINE):
            problems.append(f"{relative}: trailing whitespace")
        if path.suffix not in PYTHON_SOURCE and "\n\n\n" in text:
            problems.append(f"{relative}: two blank lines in a row")
    return problems


def test_has_exactly_the_files_its_answers_call_for(
    combination: Combination, project: Path
) -> None:
    expected = {path for path, predicate in EXPECTED_FILES if predicate(combination.data)}

    present = {str(path.relative_to(project)) for path in text_files(project)}

    assert sorted(present - expected) == [], f"{combination.id}: files it should not have"
    assert sorted(expected - present) == [], f"{combination.id}: files it lacks"


def test_python_is_formatted_and_lint_clean(
    combination: Combination, project: Path, check_cache: dict[tuple[str, str], Any]
) -> None:
    """ruff's format and checks; and deptry: every module imported is a declared
    dependency (not one that floats in with another), every dependency is used.
    """
    inputs = b"".join(p.read_bytes() for p in sorted(project.rglob("*.py")))
    inputs += (project / "pyproject.toml").read_bytes()

    def lint() -> list[str]:
        ruff = tool("ruff")
        fmt = run([ruff, "format", "--check", "--no-cache", "."], cwd=project)
        check = run([ruff, "check", "--no-cache", "--output-format", "concise", "."], cwd=project)
        deptry = run([tool("deptry"), "--no-ansi", "."], cwd=project)
        return [r.stdout + r.stderr for r in (fmt, check, deptry) if r.returncode != 0]

    failures = cached(check_cache, "ruff", inputs, lint)
    assert failures == [], f"{combination.id}:\n" + "\n".join(failures)


def test_configuration_files_are_valid(
    combination: Combination, project: Path, check_cache: dict[tuple[str, str], Any]
) -> None:
    for path in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        assert load_yaml(path) is not None, path
    pyproject = project / "pyproject.toml"
    errors = cached(
        check_cache, "pyproject", pyproject.read_bytes(), lambda: pyproject_errors(pyproject)
    )
    assert errors == [], f"{combination.id}: {errors}"
    answers = load_yaml(project / ".copier-answers.yml")
    assert {k: answers[k] for k in combination.data} == combination.data
    assert "_src_path" in answers


def update_job_validates_with_least_permissions(
    project: Path, check_cache: dict[tuple[str, str], Any]
) -> None:
    """The weekly template update: valid, SHA-pinned, write access only where it pushes."""
    path = project / ".github/workflows/template-update.yml"
    workflow = load_yaml(path)
    assert schema_errors(workflow, "github-workflows") == []
    assert lint_file(check_cache, path, "actionlint", "-no-color") == ""
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "update": {"contents": "write"},
        "ci": {"contents": "read"},
        "pull-request": {"pull-requests": "write"},
    }
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["update"]["steps"][0]["with"] == {"fetch-depth": 0}
    steps = [step for job in jobs.values() for step in job.get("steps", [])]
    actions = [step["uses"] for step in steps if "uses" in step]
    assert actions
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action) for action in actions)
    assert "bash scripts/update-from-template.sh --push origin" in [s.get("run") for s in steps]
    # A fork's pull request from a branch of the same name is never the one refreshed.
    (opens,) = jobs["pull-request"]["steps"]
    assert "map(select(.isCrossRepository | not))" in opens["run"]
    ci = load_yaml(project / ".github/workflows/ci.yml")
    assert "workflow_call" in ci["on"]


def test_ci_file_validates_and_starts_the_right_database(
    combination: Combination, project: Path, check_cache: dict[tuple[str, str], Any]
) -> None:
    database, ci = combination["database"], combination["ci"]
    if ci == "none":
        assert not (project / ".github").exists()
        assert not (project / ".gitlab-ci.yml").exists()
        return
    if ci == "github":
        path = project / ".github/workflows/ci.yml"
        workflow = load_yaml(path)
        assert schema_errors(workflow, "github-workflows") == []
        assert schema_errors(load_yaml(project / ".github/dependabot.yml"), "dependabot") == []
        assert lint_file(check_cache, path, "actionlint", "-no-color") == ""
        update_job_validates_with_least_permissions(project, check_cache)
        job = workflow["jobs"]["test"]
        services = job.get("services", {})
        images = [service["image"] for service in services.values()]
        env = job.get("env", {})
        versions = job["strategy"]["matrix"]["python-version"]
        assert versions[0] == combination["min_python"]
        assert job["strategy"]["matrix"]["resolution"] == ["highest"]
        lowest = {"python-version": combination["min_python"], "resolution": "lowest-direct"}
        locked = {"python-version": combination["min_python"], "resolution": "locked"}
        assert job["strategy"]["matrix"]["include"] == [lowest, locked]
        assert "uv sync --group test --locked" in [step.get("run") for step in job["steps"]]
        # Every action pinned to a commit; no checkout keeps credentials where nothing pushes.
        for step in [step for each in workflow["jobs"].values() for step in each["steps"]]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        assert zizmor_findings(check_cache, project / ".github") == ""
    else:
        pipeline = load_yaml(project / ".gitlab-ci.yml")
        assert schema_errors(pipeline, "gitlab-ci") == []
        update = pipeline["template-update"]
        assert update["rules"] == [
            {"if": '$CI_PIPELINE_SOURCE == "schedule" && $TEMPLATE_UPDATE_TOKEN'}
        ]
        assert update["script"][-1] == (
            "bash scripts/update-from-template.sh --push origin"
            ' --merge-request "$CI_DEFAULT_BRANCH"'
        )
        renovate = json.loads((project / "renovate.json").read_text())
        assert schema_errors(renovate, "renovate") == []
        job = pipeline["test"]
        images = [service["name"] for service in job.get("services", [])]
        env = job.get("variables", {})
        versions = job["parallel"]["matrix"][0]["PYTHON"]
        assert versions[0] == combination["min_python"]
        assert job["parallel"]["matrix"][1:] == [
            {"PYTHON": combination["min_python"], "RESOLUTION": "lowest-direct"},
            {"PYTHON": combination["min_python"], "RESOLUTION": "locked"},
        ]
        assert "uv sync --group test --locked" in job["script"][0]
    # Login limits (token auth) and Celery's broker are tested against a real Redis.
    redis = uses_redis(combination.data)
    assert ("redis:7" in images) == redis
    assert ("TEST_REDIS_URL" in env) == redis
    database_images = [image for image in images if not image.startswith("redis:")]
    if database == "sqlite":
        assert database_images == []
        assert "TEST_DATABASE_URL" not in env
    else:
        assert [image.startswith(SERVICE_IMAGES[database]) for image in database_images] == [True]
        assert env["TEST_DATABASE_URL"].startswith(URL_SCHEMES[database])


def test_docker_files_are_linted_and_match_the_database(
    combination: Combination, project: Path, check_cache: dict[tuple[str, str], Any]
) -> None:
    if not combination["docker"]:
        assert not (project / "Dockerfile").exists()
        return
    dockerfile = project / "Dockerfile"
    assert lint_file(check_cache, dockerfile, "hadolint", "--no-color") == ""
    assert f"FROM python:{combination['min_python']}-slim" in dockerfile.read_text()
    compose = load_yaml(project / "compose.yaml")
    assert schema_errors(compose, "compose-spec") == []
    assert ("db" in compose["services"]) == (combination["database"] != "sqlite")
    token_auth = combination["auth"] == "token"
    celery = combination["tasks"] == "celery"
    services = compose["services"]
    assert ("redis" in services) == (token_auth or celery)
    web_environment = services["web"]["environment"]
    assert ("RATELIMIT_STORAGE_URI" in web_environment) == token_auth
    # Celery: a worker and one beat, from the web's image, on the same broker and database.
    assert ({"worker", "beat"} & set(services)) == ({"worker", "beat"} if celery else set())
    for name in ("web", "worker", "beat") if celery else ():
        environment = services[name]["environment"]
        assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0", name
        assert environment["DATABASE_URL"] == web_environment["DATABASE_URL"], name
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}, name
    for name in ("worker", "beat") if celery else ():
        assert "ports" not in services[name], name
        # Alive while its heartbeat file is fresh: the image's web check does not apply.
        check = services[name]["healthcheck"]["test"]
        assert check == ["CMD", "python", "-m", f"{PACKAGE}.heartbeat", "60"], name
        assert services[name]["environment"]["CELERY_HEARTBEAT_FILE"], name
        assert f"--app={PACKAGE}.worker" in services[name]["command"], name
    # Every long-running service comes back after it exits; the one-shot migration does not.
    for name, service in services.items():
        expected = None if name == "migrate" else "unless-stopped"
        assert service.get("restart") == expected, name
    assert compose["services"]["web"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


# -- each distinct generated suite --------------------------------------------------------


def test_group_members_share_one_source_tree(group: SuiteGroup, renders: Renders) -> None:
    """Combinations in a group differ only in CI, Docker and minimum-Python files."""
    digests = {combo.id: tree_digest(renders.get(combo)) for combo in group.members}

    assert len(set(digests.values())) == 1, json.dumps(digests, indent=1)


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache (per Python version) for every tree this worker checks.

    A cached module whose path differs (each project has its own environment) is reused
    only when its content hash matches: the project's own modules are checked afresh in
    each tree, the dependencies they share are analysed once. Entries record the Python
    they were made for, so trees of other versions keep caches of their own.
    """
    return tmp_path_factory.getbasetemp() / "mypy-cache"


def test_generated_suite_passes_and_type_checks(
    group: SuiteGroup,
    renders: Renders,
    database_servers: dict[str, str | None],
    mypy_cache: Path,
    suite_environments: Path,
    tmp_path: Path,
    record_property: Any,
) -> None:
    """The suite passes on the real database; mypy --strict is clean (src/ and tests/).

    Both run once per distinct src/ + tests/ tree, in the environment the suite installed,
    with the resources `flask scaffold` adds (every field type and access rule): their
    tests, migrations and types are checked in every combination too.
    """
    combo = group.representative
    server = require_server(group.database, database_servers)
    python = python_for(combo["min_python"])
    # A private copy: installing and testing leave files the other checks must not see.
    project = tmp_path / combo.id
    shutil.copytree(renders.get(combo), project)
    before = set(text_files(project))
    with without_git(), jinja_compiled_once():
        add_resources(renders.template, project, PACKAGE)
    added = sorted(set(text_files(project)) - before)
    assert leftovers(project, added) == []
    ruff = tool("ruff")
    for command in (["format", "--check"], ["check", "--output-format", "concise"]):
        linted = run([ruff, *command, "--no-cache", "."], cwd=project)
        assert linted.returncode == 0, f"{combo.id}: ruff {command[0]}\n{linted.stdout}"

    suite = run_suite(project, python, server, environments=suite_environments)
    started = time.perf_counter()
    typed = run(
        [str(suite.bin / "mypy"), "--cache-dir", str(mypy_cache / combo["min_python"])],
        cwd=project,
        env=clean_environment(),
    )
    type_check_seconds = time.perf_counter() - started

    assert typed.returncode == 0, f"{combo.id}: mypy --strict\n{typed.stdout}{typed.stderr}"

    record_property(
        "matrix_suite",
        json.dumps(
            {
                "group": group.id,
                "representative": combo.id,
                "members": len(group.members),
                "database": group.database,
                "passed": suite.passed,
                "seconds": round(suite.seconds, 2),
                "type_check_seconds": round(type_check_seconds, 2),
            }
        ),
    )
