"""tf_version: Terraform version constraints as half-open intervals [low, high)."""

from __future__ import annotations

import pytest

from vizdoctor.sources.tf_version import INF, ConstraintError, constraint_interval, fmt, parse_version


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("~> 1.2", (1, 2, 0), (2, 0, 0)),
        ("~> 1.2.3", (1, 2, 3), (1, 3, 0)),
        ("~> 20.0", (20, 0, 0), (21, 0, 0)),
        ("~> 21.7", (21, 7, 0), (22, 0, 0)),
        # one component: the major version may increment (hashicorp/go-version), so no upper bound
        ("~> 1", (1, 0, 0), INF),
        (">= 1, < 2", (1, 0, 0), (2, 0, 0)),
        (">= 19.0, < 20.0", (19, 0, 0), (20, 0, 0)),
        ("= 1.2.3", (1, 2, 3), (1, 2, 4)),
        ("1.2.3", (1, 2, 3), (1, 2, 4)),
        ("v1.2.3", (1, 2, 3), (1, 2, 4)),
        ("= 1.2", (1, 2, 0), (1, 2, 1)),
        ("> 1.2.3", (1, 2, 4), INF),
        ("<= 1.2.3", (0, 0, 0), (1, 2, 4)),
        ("< 18.0.0", (0, 0, 0), (18, 0, 0)),
        (">= 1.0, != 1.5.0", (1, 0, 0), INF),  # `!=` never widens; here it cannot narrow an interval
        ("!= 1.2.3", (0, 0, 0), INF),
        (" >=1.0 ,<1.1 ", (1, 0, 0), (1, 1, 0)),
        ("~> 1.2, >= 1.4", (1, 4, 0), (2, 0, 0)),
        ("1.2.3-beta.1", (1, 2, 3), (1, 2, 4)),
    ],
)
def test_constraint_interval(text: str, low: tuple[int, int, int], high: tuple[int, int, int]) -> None:
    assert constraint_interval(text) == (low, high)


@pytest.mark.parametrize(
    "text",
    ["", "latest", "~>", ">= one", "1.2.3.4", ">= 2, < 1", "= 1.2.3, = 1.2.4", "~> 1.2,", "=> 1.0"],
)
def test_invalid_text_raises(text: str) -> None:
    with pytest.raises(ConstraintError):
        constraint_interval(text)


def test_constraint_error_is_a_value_error() -> None:
    assert issubclass(ConstraintError, ValueError)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("19.2.0", (19, 2, 0)),
        ("v18.31.2", (18, 31, 2)),
        ("20", (20, 0, 0)),
        ("21.7", (21, 7, 0)),
        ("x", None),
    ],
)
def test_parse_version(text: str, version: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == version


def test_fmt() -> None:
    assert fmt((19, 3, 1)) == "19.3.1"
    assert fmt(INF) == "any newer release"
