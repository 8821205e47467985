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


class _NoMemo(dict):
    """TreeBuilder.plain_lines that never remembers a line (the way without the memo)."""

    def get(self, key, default=None):
        return {}


def _tree_repr(p: Parser) -> str:
    seen: dict = {}

    def item(x) -> tuple:
        if isinstance(x, Filter):
            return ("F", x.kind, repr(x.texts), x.line, x.linenum, tuple(item(c) for c in x.content))
        return (type(x).__name__,) + tuple(repr(getattr(x, a, None)) for a in (
            "values", "op", "name", "value", "short", "dest", "linenum"))

    def node(n: Node) -> tuple:
        if n.uid in seen:
            return ("ref", seen[n.uid])
        seen[n.uid] = len(seen)
        return (n.name, n.var_name, n.default, n.linenum, tuple(item(c) for c in n.content),
                tuple(node(c) for c in n.children))

    t = p._tree
    return repr((node(t.node), t.table.longs, t.log.entries, sorted(t.postfix_keys)))


def _both_ways(text: str) -> tuple:
    out = []
    for memo in (True, False):
        p = Parser()
        if not memo:
            p._tree.plain_lines = _NoMemo()
        try:
            p.parse_string(text)
        except Exception as exc:  # (the same error both ways)
            out.append(("error", type(exc).__name__, str(exc)))
            continue
        out.append(_tree_repr(p))
    return tuple(out)


def test_repeated_plain_lines_read_as_the_first_time():
    # the fast lane remembers the plain sets it took per block indentation:
    # the same line text elsewhere (other blocks, other depths, after a tab
    # line, once quoted) must read the same as without the memo
    text = ("a = 1\nb = 'q'\n    a = 1\nvariants:\n    - x:\n        a = 1\n        b = 'q'\n"
            "    - y:\n        a = 1\n\tc = 2\n        a = 1\n        b = 'q'\n"
            "x:\n    a = 1\n    b = 'q'\na = 1\n")
    first, second = _both_ways(text)
    assert first == second
    assert "error" not in first


def test_plain_line_memo_on_random_configs():
    import random

    from .gen import random_config

    rng = random.Random(5)
    for _ in range(300):
        text = random_config(rng)
        # repeat some lines at other depths
        lines = text.splitlines()
        for _ in range(3):
            i = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[i].strip())
        text = "\n".join(lines) + "\n"
        first, second = _both_ways(text)
        assert first == second, text
