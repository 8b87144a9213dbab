"""Extension objects, created unbound and attached in create_app()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their state after COMMIT: a response built from the row just written
# needs no SELECT to read it back (the session ends with the request anyway).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()

# Requests that only read. They need no transaction of their own (PostgreSQL runs them in
# autocommit) and keep their connection from authentication to the response.
READ_METHODS = frozenset({"GET", "HEAD"})
# The execution options of a statement that only reads and whose answer a request uses
# before it writes anything (the token check): it needs no transaction of its own either.
READS_BEFORE_WRITES = {"reads_before_writes": True}

# Models derive from db.Model, a class Flask-SQLAlchemy makes from Base at run time.
# A type checker cannot follow that: to it, models derive from Base, which has the
# same columns, metadata and registry.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
