"""The naming filters that derive defaults and validate package names."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from .matrix import ROOT


def load_extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "template_context", ROOT / "extensions/context.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


context = load_extension()


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("My Service", "my-service", "my_service"),
        ("Billing_API v2", "billing-api-v2", "billing_api_v2"),
        ("  spaced   out ", "spaced-out", "spaced_out"),
    ],
)
def test_names_derive_slug_and_package(name: str, slug: str, package: str) -> None:
    assert context.kebab(name) == slug
    assert context.snake(context.kebab(name)) == package


@pytest.mark.parametrize("name", ["my_service", "billing_api_v2", "_private"])
def test_good_package_names_pass(name: str) -> None:
    assert context.package_name_problem(name) == ""


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("My_Service", "lower-case Python identifier"),
        ("match", "Python keyword"),
        ("asyncio", "standard-library module"),
        ("werkzeug", "would shadow a dependency"),
        ("tests", "would shadow a dependency"),
    ],
)
def test_bad_package_names_say_why(name: str, reason: str) -> None:
    assert reason in context.package_name_problem(name)


def test_python_versions_supported_start_at_the_minimum() -> None:
    derived: dict[str, object] = {
        "database": "mysql",
        "package_name": "shop",
        "auth": "token",
        "factories": "plain",
        "error_schema": "problem",
        "min_python": "3.12",
    }
    context.DerivedContext.hook(None, derived)

    assert derived["python_versions"] == ["3.12", "3.13"]
    assert derived["error_media_type"] == "application/problem+json"
    assert "pymysql>=1.1" in derived["dependencies"]  # type: ignore[operator]
    assert "factory-boy>=3.3" not in derived["test_dependencies"]  # type: ignore[operator]
