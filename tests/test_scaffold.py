"""`flask scaffold` as owners type it, in a project copied from a git release of the template.

The command renders each resource from the template at the project's release (copier
pinned by the project), so this runs the whole path: the checks that refuse bad input
before writing anything, the renders, the migrations on the project's head, and the
project's own checks afterwards (its suite runs on the same resources in every distinct
suite of the matrix, tests/scaffolds.py); this is where the command itself runs.
"""

from __future__ import annotations

from pathlib import Path

from .live import live_project
from .owners import PACKAGE
from .releases import commit_all, copy_project, git, new_template_repo
from .scaffolds import RESOURCES, registry_text
from .tools import python_for, run

# (arguments, what the one line says): each exits 1 and leaves `git status` clean. The
# generated suite checks every refusal in-process (tests/unit/test_scaffold.py).
BAD_INPUT = [
    (["users", "name:string"], "resource 'users' exists already"),
    (["invoices", "number:string"], "resource 'invoices' exists already"),
    (["class", "name:string"], "a Python keyword"),
    (["order", "name:string"], "a word SQL reserves"),
    (["docs", "name:string"], "already has a route"),
    (["things"], "at least one field"),
    (["things", "name:varchar"], "unknown type 'varchar'"),
    (["things", "id:integer"], "a name every resource has"),
    (["things", "name:string", "name:text"], "field 'name' is given twice"),
    (["things", "group_id:references:groups"], "references names nothing known"),
    (["things", "name:string", "--access", "everyone"], "--access must be one of"),
]


def test_scaffold_adds_resources_that_pass_the_projects_own_checks(tmp_path: Path) -> None:
    template = new_template_repo(tmp_path / "template")
    template.release("v99.0.0", "Release v99.0.0: the template as it is")
    project = copy_project(template, tmp_path / "my-service", {})
    python = python_for("3.12")
    with live_project(project, python, None) as live:
        for resource in RESOURCES:
            live.flask(*resource.command())
        commit_all(project, "Add the resources")

        for arguments, problem in BAD_INPUT:
            output = live.flask("scaffold", *arguments, succeeds=False)
            assert output.count("\n") == 1, output
            assert problem in output, (arguments, output)
        assert git(project, "status", "--porcelain") == ""

        # What the command wrote: a package, a migration and tests per resource, each
        # resource's answers, and the registry that lists them in the order they came.
        package = project / "src" / PACKAGE
        registry = (package / "resources" / "__init__.py").read_text()
        assert registry == registry_text([resource.name for resource in RESOURCES])
        for resource in RESOURCES:
            answers = (project / ".copier-resources" / f"{resource.name}.yml").read_text()
            assert f"resource: {resource.name}" in answers
            assert "_commit: v99.0.0" in answers
            assert (package / "resources" / resource.name / "service.py").is_file()
            assert (project / "tests" / "resources" / resource.name / "test_api.py").is_file()
        migrations = package / "migrations" / "versions"
        assert 'down_revision = "0005"' in (migrations / "resource_invoices.py").read_text()
        assert 'down_revision = "r_invoices"' in (migrations / "resource_payments.py").read_text()

        assert "r_audits" in live.flask("db", "upgrade")
        live.flask("db", "check")
        # The same files in every distinct suite of the matrix pass the suite, mypy --strict
        # and ruff there (tests/scaffolds.py); ruff here checks the command wrote them so.
        for command in (["ruff", "format", "--check", "."], ["ruff", "check", "."]):
            done = run([str(live.bin / command[0]), *command[1:]], cwd=project, env=live.env)
            assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
        assert live.flask("db", "downgrade", "0005")
        live.flask("db", "upgrade")
