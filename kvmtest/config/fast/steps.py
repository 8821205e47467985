"""Step records shared by the JSON emitter: merged steps, encoded dicts, compiling.

A node's content (for a given set of unpacked conditions) compiles to
"steps": dicts of plain sets, with the ops that need the current dict
(``+=``, ``${...}``, regex operators...) between them.
"""

from __future__ import annotations

from itertools import count

from ..ops import regex_for
from ..text import subst_refs
from ..tree import COND, NOTCOND, RESERVED, FileMap, Node, Op, PreDict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import AbstractSet, Dict, Iterable, Optional, Sequence, Set

    from ..parser import TreeBuilder
    from ..tree import Item

REGEX_OPS = ("?=", "?+=", "?<=", "del")
_serial = count(1)


class Comp:
    """Merged steps of a run of frames, and what they set for good."""

    __slots__ = ("steps", "keys", "fixed", "serial", "has_ops", "reads", "exps", "matched",
                 "source")

    def __init__(self, steps: list) -> None:
        self.steps = steps
        keys: Set[str] = set()
        has_ops = False
        for step in self.steps:
            if type(step) is dict:
                keys.update(step)
            else:
                has_ops = True
                if step.op not in REGEX_OPS and step.name not in RESERVED:
                    keys.add(step.name)
        self.keys = frozenset(keys)
        self.has_ops = has_ops
        self.fixed: Optional[dict] = None
        self.serial = next(_serial)
        self.reads: Optional[frozenset] = None
        self.exps: list = []
        self.matched: Dict[str, bool] = {}
        self.source: Optional[list] = None  # the unmerged steps it was made from

    def any_match(self, keys: Iterable[str]) -> bool:
        """Does a regex op of these steps match one of ``keys``? (cached per key)"""
        matched = self.matched
        for k in keys:
            m = matched.get(k)
            if m is None:
                m = matched[k] = any(e.match(k) for e in self.exps)
            if m:
                return True
        return False

    def compute_reads(self) -> frozenset:
        """Keys the ops read (own key, ``${refs}``); regex ops go to ``exps``."""
        if self.reads is None:
            reads: Set[str] = set()
            for step in self.steps:
                if type(step) is dict:
                    continue
                if step.dollar:
                    reads.update([ref[2] for ref in subst_refs(step.value)])
                if step.op in REGEX_OPS:
                    self.exps.append(regex_for(step))
                elif step.op != "=":
                    reads.add(step.name)
            self.reads = frozenset(reads)
        return self.reads

    def compute_fixed(self) -> dict:
        """Keys whose last writer is a plain set no later op can touch."""
        if self.fixed is None:
            fixed: dict = {}
            blocked = set()
            exps: list = []  # (text.key_pattern's matchers)
            for step in self.steps[::-1]:
                if type(step) is dict:
                    for k, v in step.items():
                        if k in fixed or k in blocked:
                            continue
                        if exps and any(e.match(k) for e in exps):
                            continue
                        fixed[k] = v
                elif step.op in REGEX_OPS:
                    exps.append(regex_for(step))
                else:
                    blocked.add(step.name)
            self.fixed = fixed
        return self.fixed


class Base:
    """An encoded dict: sorted keys, fragments, key -> index."""

    __slots__ = ("keys", "parts", "pos", "postfix", "values")
    values: dict  # (the emitter's full bases: the dict they encode)

    def __init__(self, keys: list, parts: list, pos: Optional[dict] = None) -> None:
        self.keys = keys
        self.parts = parts
        self.pos = {k: i for i, k in enumerate(keys)} if pos is None else pos
        self.postfix = False  # has X_max/_min/_fixed keys: leaves need the general case


def pending_conds(keep: tuple) -> frozenset:
    """Uids of the conditions (and nested ones) still pending: they may unpack below."""
    out = []
    stack = [it for it in keep if it.kind in (COND, NOTCOND)]
    while stack:
        it = stack.pop()
        out.append(it.uid)
        stack.extend(x for x in it.content if x.is_filter)
    return frozenset(out)


def node_conds(node: Node) -> tuple:
    """Uids of the conditions in a node's content that have a body (nested ones
    too), in order: which of them a leaf unpacked decides the node's steps."""
    found = []
    items = list(reversed(node.content))
    while items:
        it = items.pop()
        if it.is_filter and it.content:
            found.append(it.uid)
            items.extend(reversed(it.content))
    return tuple(found)


def compile_steps(content: Sequence[Item], unpacked: AbstractSet[int],
                  maps: bool = False) -> list:
    """A node's content as steps: dicts of plain sets and single ops.

    ``maps``: keep a ``None`` placeholder for each ``_*_map_file`` key at its
    first position (the dict builder fills them in); else they are dropped.
    """
    steps: list = []
    run: dict = {}
    stack = [iter(content)]
    while stack:
        for op in stack[-1]:
            if op.is_filter:
                if op.uid in unpacked and op.content:
                    stack.append(iter(op.content))
                    break
                continue
            if isinstance(op, PreDict):
                run.update(op.values)
                continue
            if isinstance(op, FileMap):
                if maps:
                    run[op.dest] = None
                continue
            if isinstance(op, Op) and op.op == "=" and not op.dollar:
                if op.name not in RESERVED:
                    run[op.name] = op.value
                continue
            if run:
                steps.append(run)
                run = {}
            steps.append(op)
        else:
            stack.pop()
    if run:
        steps.append(run)
    return steps


def concat(own: list, rest: list) -> list:
    """``own + rest``, the last plain-set dict of ``own`` merged with the first
    of ``rest`` (applying the merged dict is applying both, keys in the same
    order: a leaf then does one ``dict.update`` less per frame)."""
    if rest and type(own[-1]) is dict and type(rest[0]) is dict:
        run = own[-1].copy()
        run.update(rest[0])
        return own[:-1] + [run] + rest[1:]
    return own + rest


def supports(tree: TreeBuilder) -> bool:
    """Can the emitter handle this tree? (else: get_dicts() and json.dumps)

    Not with ``join`` or ``suffix``, values substituting ``${name}`` and
    friends, or post-processed reserved keys (``name_max``...): those need
    the leaf's own name while ops run.
    """
    if tree.has_join or tree.has_suffix:
        return False
    for key in tree.postfix_keys:
        for end in ("_max", "_min", "_fixed"):
            if key.endswith(end) and key.split(end)[0] in RESERVED:
                return False
    return not tree.reserved_refs


__all__ = ["Comp", "Base", "REGEX_OPS", "compile_steps", "concat", "node_conds", "pending_conds",
           "supports"]
