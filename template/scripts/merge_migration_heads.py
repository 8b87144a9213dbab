"""Keep every migration, and join the project's heads into one, after a template update.

Your migrations revise the head you had; a template release, or a feature turned on
with ``copier update --data``, can add migrations that revise an older revision. Alembic
then sees several heads, and ``flask db upgrade`` and ``flask db migrate`` stop with
"Multiple head revisions". Copier runs this after every copy and update::

    python scripts/merge_migration_heads.py src/<package>/migrations/versions

When there is more than one head it writes one empty merge revision over all of them
(what ``flask db merge heads`` would write), named after the heads it joins, so running
it again writes nothing. It reads the files only: no app, no database, standard library.

First, it puts back any migration the update deleted (a feature turned off deletes the
feature's files): a database that ran it names it, and Alembic refuses every command
without it. The feature's tables and columns stay; ``flask db check`` then lists them,
and ``flask db migrate`` writes the migration that drops them, for you to review.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

FIELDS = ("revision", "down_revision")
MERGE = '''"""Merge the migration heads (after a template update).

Revision ID: {revision}
{revises}
"""

revision = "{revision}"
down_revision = (
{parents}
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


class UnreadableMigrationError(Exception):
    """A migration file whose revision ids cannot be read without running it."""


def revision_of(path: Path) -> tuple[str, tuple[str, ...]]:
    """A migration file's revision id and the ids it revises (module-level literals)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as error:
        raise UnreadableMigrationError(f"{path}: {error}") from None
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in FIELDS:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                raise UnreadableMigrationError(f"{path}: {target.id} is not a literal") from None
    revision, parents = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        raise UnreadableMigrationError(f"{path}: no revision id")
    if parents is None:
        return revision, ()
    if isinstance(parents, str):
        return revision, (parents,)
    if isinstance(parents, (tuple, list)) and all(isinstance(p, str) for p in parents):
        return revision, tuple(parents)
    raise UnreadableMigrationError(f"{path}: down_revision is neither an id nor ids")


def heads(folder: Path) -> list[str]:
    """The revisions that no other revision revises, sorted."""
    graph = dict(revision_of(path) for path in sorted(folder.glob("*.py")))
    revised = {parent for parents in graph.values() for parent in parents}
    return sorted(set(graph) - revised)


def merge(folder: Path) -> Path | None:
    """Write the merge revision when there are several heads; the file written, or None."""
    found = heads(folder)
    if len(found) < 2:
        return None
    digest = hashlib.sha256(" ".join(found).encode()).hexdigest()[:12]
    revision = f"merge_{digest}"
    path = folder / f"{revision}.py"
    revises = textwrap.fill("Revises: " + ", ".join(found), width=88, break_on_hyphens=False)
    parents = "\n".join(f"    {json.dumps(head)}," for head in found)
    text = MERGE.format(revision=revision, revises=revises, parents=parents)
    path.write_text(text, encoding="utf-8")
    return path


def keep_deleted(folder: Path) -> list[str]:
    """Migrations that git has and the working tree lost, checked out again; their names."""
    git = shutil.which("git")
    if git is None:
        return []
    # git, found on PATH, given file names that git itself listed.
    listed = subprocess.run(  # noqa: S603
        [git, "ls-files", "--deleted", "--", "*.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        return []  # not a repository yet: a copy, which deletes nothing
    deleted = [name for name in listed.stdout.splitlines() if "/" not in name]
    if deleted:
        subprocess.run([git, "checkout", "--", *deleted], cwd=folder, check=True)  # noqa: S603
    return deleted


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: merge_migration_heads.py MIGRATIONS_VERSIONS_FOLDER\n")
        return 2
    folder = Path(argv[0])
    for name in keep_deleted(folder):
        sys.stdout.write(
            f"Kept {folder / name}, which the update deleted: a database may have run it."
            " See README.md, Changing an answer.\n"
        )
    try:
        written = merge(folder)
    except UnreadableMigrationError as error:
        # Never fails the update: the files are written; say what to check by hand.
        sys.stdout.write(
            f"Migration heads not checked ({error}): run `flask db heads`, and"
            " `flask db merge heads` if it lists more than one.\n"
        )
        return 0
    if written is not None:
        sys.stdout.write(f"Joined the migration heads in {written}: commit it.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
