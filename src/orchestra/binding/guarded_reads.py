"""The `vars.X` / `suite.X` a Jinja template reads unguarded, by its syntax tree.

A read guarded by the `default` filter or an `is defined` test does not count; `vars.get('x')`
is a method call, not a read of `vars.get`. Templates of plain lookups are read without Jinja
(`binding.variables`); this module imports it for the others.
"""

from __future__ import annotations

from collections.abc import Collection

from jinja2 import Environment, TemplateSyntaxError, nodes

from orchestra.binding.templates import lookup_chain

_GUARDS = frozenset({"default", "d"})  # filters that make a missing value fine
_TESTS = frozenset({"defined", "undefined"})
_PARSER = Environment(autoescape=False)


def unguarded_reads(source: str, checked: Collection[str]) -> tuple[tuple[str, str], ...]:
    """(namespace, key) of each unguarded read of a `checked` namespace's key."""
    try:
        tree = _PARSER.parse(source)
    except TemplateSyntaxError:
        return ()  # said when the step is compiled
    found: list[tuple[str, str]] = []
    _walk(tree, found, checked)
    # `{% if vars.x is defined %}...{{ vars.x }}`: a value tested anywhere is guarded everywhere
    tested: list[tuple[str, str]] = []
    for test in tree.find_all(nodes.Test):
        if test.name in _TESTS:
            _walk(test.node, tested, checked)
    return tuple(read for read in dict.fromkeys(found) if read not in tested)


def _walk(node: nodes.Node, found: list[tuple[str, str]], checked: Collection[str]) -> None:
    children: list[nodes.Node]
    if isinstance(node, nodes.Filter) and node.name in _GUARDS:
        children = [*node.args, *(kw.value for kw in node.kwargs)]
    elif isinstance(node, nodes.Test) and node.name in _TESTS:
        return
    elif isinstance(node, nodes.Call) and _is_method(node.node, checked):
        children = [*node.args, *(kw.value for kw in node.kwargs)]  # vars.get('x')
    else:
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            chain = lookup_chain(node)
            if chain and len(chain) > 1 and chain[0] in checked and isinstance(chain[1], str):
                found.append((str(chain[0]), chain[1]))
                return
        children = list(node.iter_child_nodes())
    for child in children:
        _walk(child, found, checked)


def _is_method(node: nodes.Node, checked: Collection[str]) -> bool:
    """`vars.get`, `suite.keys`: a namespace's method, not one of its values."""
    return (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.name in checked
    )
