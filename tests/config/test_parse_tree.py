"""What the parser and tree.prepare leave in the tree (shapes the walkers rely on)."""

from __future__ import annotations

from kvmtest.config import Parser
from kvmtest.config.tree import Filter, Node, PreDict, prepare


def _items(node: Node) -> list:
    out: list = []
    seen: set = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.uid in seen:
            continue
        seen.add(n.uid)
        todo = list(n.content)
        while todo:
            it = todo.pop()
            out.append(it)
            if isinstance(it, Filter):
                todo.extend(it.content)
        stack.extend(n.children)
    return out


def test_no_empty_predicts():
    # a PreDict was flushed before every filter, condition and op, even with
    # nothing pending; an empty one changes no dict
    p = Parser()
    p.parse_string("a = 1\nonly x\nno y\nx:\n    only z\n    b = 2\n    c += 3\n"
                   "variants:\n    - x:\n        only q\n    - y:\n    - z:\n    - q:\n"
                   "del a\nd = $a\n")
    items = _items(p.node)
    assert [it for it in items if isinstance(it, PreDict) and not it.values] == []
    assert sum(isinstance(it, PreDict) for it in items) == 2  # a = 1; b = 2


def test_universes_shared_per_text_and_recomputed_per_prepare():
    p = Parser()
    p.parse_string("variants:\n    - a:\n    - b:\nonly a\nno b\nonly a\n")
    filters = [it for it in p.node.content if isinstance(it, Filter)]
    prepare(p.node)
    first, last = filters[0], filters[2]
    assert first.words is last.words and first.universe is last.universe
    assert sorted(p._tree.table.longs[i] for i in first.universe) == ["a"]
    # a label named a from a later text: the same filters match it too
    p.parse_string("variants v:\n    - a:\n")
    prepare(p.node)
    assert len(first.universe) == 2 and last.universe is first.universe
    assert [d["name"] for d in p.get_dicts()] == ["(v=a).a"]
