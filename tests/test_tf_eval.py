"""tf_eval: the offline subset of Terraform expressions. Anything it cannot evaluate is `Unknown`, never a guess."""

from __future__ import annotations

from typing import Any

import pytest

from vizdoctor.sources import hcl_ts
from vizdoctor.sources.tf_eval import Ref, Scope, Unknown, evaluate, evaluate_expression, is_known


def ev(expr: str, **variables: Any) -> Any:
    return evaluate_expression(expr, Scope(variables=dict(variables)))


def hcl(text: str) -> dict[str, Any]:
    """What the real parser hands to `evaluate` (sources/hcl_ts.py, as sources/terraform.py calls it)."""
    body, problems = hcl_ts.loads(text)
    assert problems == []
    return body


# --- literals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("8089", 8089),
        ("1.5", 1.5),
        ("-1", -1),
        ('"tcp"', "tcp"),
        ('"-1"', "-1"),
        ("true", True),
        ("false", False),
        ("null", None),
        ('[1, "a", true]', [1, "a", True]),
        ('{ a = 1, "b" = "x", c: 2 }', {"a": 1, "b": "x", "c": 2}),
        ("(8089)", 8089),
        ('"a\\"b\\n"', 'a"b\n'),
        ('"café \\u00e9"', "café é"),
    ],
)
def test_literals(expr: str, value: Any) -> None:
    assert ev(expr) == value


def test_plain_python_values_pass_through() -> None:
    assert evaluate(8089, Scope()) == 8089
    assert evaluate("tcp", Scope()) == "tcp"
    assert evaluate([1, "${2}"], Scope()) == [1, 2]


def test_parser_metadata_keys_are_dropped() -> None:
    assert evaluate({"a": "${1}", "__is_block__": True}, Scope()) == {"a": 1}


def test_escaped_interpolation_is_literal_text() -> None:
    assert evaluate("$${not_an_expression}", Scope()) == "${not_an_expression}"
    assert evaluate("$${x} ${var.p}", Scope(variables={"p": 1})) == "${x} 1"


def test_values_from_the_real_parser() -> None:
    body = hcl('a = 8089\nb = "tcp"\nc = var.p\nd = "port-${var.p}"\ne = { x = [var.p] }\n')
    out = evaluate(body, Scope(variables={"p": 8089}))
    assert out == {"a": 8089, "b": "tcp", "c": 8089, "d": "port-8089", "e": {"x": [8089]}}


# --- var -----------------------------------------------------------------------------------------


def test_var() -> None:
    assert ev("var.port", port=8089) == 8089


def test_var_attribute_and_index() -> None:
    rules = {"tap": {"from_port": 8089, "cidrs": ["10.0.0.0/8", "0.0.0.0/0"]}}
    assert ev("var.rules.tap.from_port", rules=rules) == 8089
    assert ev('var.rules["tap"].cidrs[1]', rules=rules) == "0.0.0.0/0"
    assert ev("var.rules.tap.cidrs[-1]", rules=rules) == "0.0.0.0/0"


def test_missing_var_attribute_and_index_are_unknown() -> None:
    rules = {"tap": {"cidrs": ["a"]}}
    assert isinstance(ev("var.rules.nope", rules=rules), Unknown)
    assert isinstance(ev("var.rules.tap.cidrs[3]", rules=rules), Unknown)
    assert isinstance(ev('var.rules["zzz"]', rules=rules), Unknown)


def test_undeclared_var_is_unknown_with_the_name() -> None:
    v = ev("var.port")
    assert isinstance(v, Unknown)
    assert "var.port" in v.why


def test_unknown_var_propagates() -> None:
    v = ev("var.port", port=Unknown("var.port has no default"))
    assert v == Unknown("var.port has no default")


# --- local ---------------------------------------------------------------------------------------


def test_local_chain() -> None:
    scope = Scope(locals_raw={"a": "${local.b}", "b": "${local.c.port}", "c": {"port": "${var.p}"}})
    scope.variables["p"] = 8089
    assert evaluate_expression("local.a", scope) == 8089


def test_local_cycle_is_unknown() -> None:
    scope = Scope(locals_raw={"a": "${local.b}", "b": "${local.a}"})
    v = evaluate_expression("local.a", scope)
    assert isinstance(v, Unknown)
    assert "refers to itself" in v.why


def test_self_referencing_local_is_unknown() -> None:
    v = evaluate_expression("local.a", Scope(locals_raw={"a": "${local.a}"}))
    assert isinstance(v, Unknown)


def test_undefined_local_is_unknown() -> None:
    v = evaluate_expression("local.nope", Scope())
    assert isinstance(v, Unknown)
    assert "local.nope" in v.why


def test_locals_are_evaluated_once() -> None:
    scope = Scope(locals_raw={"m": {"k": "${var.p}"}}, variables={"p": 1})
    assert evaluate_expression("local.m", scope) == {"k": 1}
    scope.variables["p"] = 2  # cached: locals are values, not expressions
    assert evaluate_expression("local.m.k", scope) == 1


# --- conditionals and operators ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("true ? 1 : 0", 1),
        ("false ? 1 : 0", 0),
        ("var.on ? 8089 : 0", 8089),
        ('var.mode == "tap" ? 1 : 0', 1),
        ('var.mode != "tap" ? 1 : 0', 0),
        ("!var.on", False),
        ("var.on && false", False),
        ("var.on || false", True),
        ("true ? (false ? 1 : 2) : 3", 2),
    ],
)
def test_conditionals(expr: str, value: Any) -> None:
    assert ev(expr, on=True, mode="tap") == value


def test_conditional_on_unknown_is_unknown() -> None:
    v = ev("var.enabled ? 1 : 0")
    assert isinstance(v, Unknown)
    assert "var.enabled" in v.why


def test_conditional_on_unknown_with_equal_branches_is_decided() -> None:
    assert ev("var.enabled ? 8089 : 8089") == 8089


def test_boolean_short_circuit_with_unknown() -> None:
    assert ev("false && var.u") is False
    assert ev("true || var.u") is True
    assert isinstance(ev("true && var.u"), Unknown)


def test_comparison_with_unknown_is_unknown() -> None:
    assert isinstance(ev('var.u == "x"'), Unknown)


def test_arithmetic_is_not_evaluated() -> None:
    v = ev("var.p + 1", p=8088)
    assert isinstance(v, Unknown)
    assert "offline" in v.why


# --- functions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("merge({ a = 1, b = 1 }, { b = 2 })", {"a": 1, "b": 2}),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ('lookup({ a = 1 }, "a")', 1),
        ('lookup({ a = 1 }, "b", 7)', 7),
        ("try(var.nope, 5)", 5),
        ("try(var.p, 5)", 8089),
        ("flatten([[1, [2]], 3])", [1, 2, 3]),
        ('tonumber("8089")', 8089),
        ("tonumber(8089)", 8089),
        ("tostring(8089)", "8089"),
        ("tostring(true)", "true"),
        ('lower("TCP")', "tcp"),
        ('upper("tcp")', "TCP"),
        ("tolist([1])", [1]),
        ("toset([1])", [1]),
        ("tomap({ a = 1 })", {"a": 1}),
    ],
)
def test_functions(expr: str, value: Any) -> None:
    assert ev(expr, p=8089) == value


def test_unknown_function_is_unknown() -> None:
    v = ev('cidrsubnet("10.0.0.0/8", 8, 1)')
    assert isinstance(v, Unknown)
    assert "cidrsubnet" in v.why


def test_function_of_unknown_is_unknown() -> None:
    assert isinstance(ev("merge(var.nope, { a = 1 })"), Unknown)
    assert isinstance(ev('lookup(var.nope, "a", 1)'), Unknown)
    assert isinstance(ev('tonumber("tcp")'), Unknown)


def test_lookup_without_default_of_missing_key_is_unknown() -> None:
    assert isinstance(ev('lookup({ a = 1 }, "b")'), Unknown)


def test_function_with_wrong_arity_is_unknown() -> None:
    assert isinstance(ev("lower()"), Unknown)


# --- templates -----------------------------------------------------------------------------------


def test_template() -> None:
    assert (
        evaluate("port-${var.p}/${var.proto}", Scope(variables={"p": 8089, "proto": "tcp"}))
        == "port-8089/tcp"
    )
    assert ev('"tap-${var.p}"', p=8089) == "tap-8089"
    assert evaluate("on=${var.b}", Scope(variables={"b": True})) == "on=true"


def test_template_with_unknown_part_is_unknown() -> None:
    v = evaluate("port-${var.p}", Scope())
    assert isinstance(v, Unknown)
    assert "var.p" in v.why


def test_template_with_reference_is_unknown() -> None:
    assert isinstance(evaluate("sg-${aws_security_group.x.id}", Scope()), Unknown)


def test_whole_string_interpolation_keeps_the_type() -> None:
    assert evaluate("${var.p}", Scope(variables={"p": 8089})) == 8089
    assert evaluate("${var.m}", Scope(variables={"m": {"a": 1}})) == {"a": 1}


# --- references ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "address"),
    [
        ("module.eks.node_security_group_id", "module.eks.node_security_group_id"),
        ("module.eks.outputs.deep", "module.eks.outputs.deep"),
        ("aws_security_group.nodes.id", "aws_security_group.nodes.id"),
        ("aws_security_group.nodes[0].id", "aws_security_group.nodes[0].id"),
        ("data.aws_x.y.port", "data.aws_x.y.port"),
        (
            "aws_eks_cluster.this.vpc_config[0].cluster_security_group_id",
            "aws_eks_cluster.this.vpc_config[0].cluster_security_group_id",
        ),
    ],
)
def test_references_are_refs(expr: str, address: str) -> None:
    assert ev(expr) == Ref(address)


@pytest.mark.parametrize("expr", ["each.value.port", "count.index", "self.id", "path.module"])
def test_expansion_context_is_unknown(expr: str) -> None:
    v = ev(expr)
    assert isinstance(v, Unknown)
    assert "where the expression is expanded" in v.why


@pytest.mark.parametrize("expr", ["[for x in var.l : x]", "var.l[*].id", "8089 8089", "foo"])
def test_unsupported_syntax_is_unknown(expr: str) -> None:
    assert isinstance(ev(expr, l=[{"id": 1}]), Unknown)


def test_is_known() -> None:
    assert is_known({"a": [1, "x", {"b": None}]})
    assert not is_known({"a": [1, Unknown("u")]})
    assert not is_known([Ref("aws_security_group.x.id")])
    assert not is_known(Unknown("u"))


# --- fast paths (issue 12): each must give exactly what the general path gives ----------------------


def _general(expr: str, scope: Scope) -> Any:
    """The parser path, bypassing the dotted-reference shortcut of evaluate_expression."""
    from vizdoctor.sources import tf_eval

    parser = tf_eval._Parser(tf_eval._tokenize(expr), scope, expr)
    return parser.expression()


@pytest.mark.parametrize(
    "expr",
    [
        "var.port",
        " var.port ",
        "var.ports.webhook",
        "var.missing",
        "var.port.deeper",
        "local.port",
        "local.ports.tap",
        "local.self_ref",
        "local.undefined",
        "module.eks.node_security_group_id",
        "module.nodes.group_id",
        "module.nodes.group_id.extra",
        "aws_security_group.x.id",
        "data.aws_security_group.x.id",
        "each.value.port",
        "count.index",
        "self.id",
        "path.module",
        "terraform.workspace",
        "a-b.c-d",
    ],
)
def test_dotted_reference_shortcut_matches_the_parser(expr: str) -> None:
    def scope() -> Scope:
        s = Scope(
            variables={"port": 8089, "ports": {"webhook": 9443}},
            locals_raw={"port": "${var.port}", "ports": {"tap": 8089}, "self_ref": "${local.self_ref}"},
            prefix="module.child.",
            modules={"nodes": lambda out: {"group_id": Ref("module.nodes.aws_security_group.n.id")}.get(out)},
        )
        return s

    assert evaluate_expression(expr, scope()) == _general(expr, scope())


@pytest.mark.parametrize(
    "text",
    [
        "${var.port}",
        '${"a}b"}',
        "${a}${b}",
        '${lookup({a = 1}, "a")}',
        "${var.port}-x",
        'x-${"}"}',
        "${}",
        "${a}}",
    ],
)
def test_whole_interpolation_shortcut_agrees_with_the_brace_walk(text: str) -> None:
    from vizdoctor.sources import tf_eval

    walked = (
        text.startswith("${") and text.endswith("}") and tf_eval._matching_close(text, 1) == len(text) - 1
    )
    assert tf_eval._whole_interpolation(text) == walked


@pytest.mark.parametrize(
    "source",
    [
        "a = var.x",
        "a = module.eks.node_security_group_id",
        'a = lookup(var.m,\n  "k",\n  1)',
        "a = merge(local.t, { b = 1 })",
        "a = {\n  x = 1\n  y = 2\n}",
        "a = [\n  1, # one\n  2\n]",
        "a = var.x // note",
        "a = 10 / 2",
        'a = "${var.x}/${var.y}"',
        "a = <<EOT\nhello\nEOT",
        'a = { "k": 1 }',
    ],
)
def test_expression_text_shortcut_matches_the_tree_walk(source: str) -> None:
    """expr_text skips the subtree walk when the source has nothing to edit; forcing the walk must give the
    same text."""
    import re

    from vizdoctor.sources import hcl_ts

    fast, _ = hcl_ts.loads(source)
    saved = hcl_ts._NEEDS_EDITS
    hcl_ts._NEEDS_EDITS = re.compile(rb"")  # matches everywhere: always the walk
    try:
        slow, _ = hcl_ts.loads(source)
    finally:
        hcl_ts._NEEDS_EDITS = saved
    assert fast == slow
