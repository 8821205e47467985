# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Random Cartesian configs (mostly valid, sometimes not) for property tests and fuzzing."""

from __future__ import annotations

import random

LABELS = ["a", "b", "c", "d", "x1", "y-2", "z_3"]
KEYS = ["k", "kk", "img_a", "img_b", "mem", "mem_max", "cpu_min", "v_fixed", "name"]
OPS = ["=", "+=", "<=", "~=", "?=", "?+=", "?<="]
NOISE = ["", " ", "..", ".", ",", "(", ")", "=", ":", "!", "[", "]", "@", "#", "$", '"', "|",
         "- ", "variants", "only", "del", "$a{"]


def _filter(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(1, 3)):
        blocks = []
        for _ in range(rng.randint(1, 2)):
            elems = []
            for _ in range(rng.randint(1, 2)):
                lab = rng.choice(LABELS)
                if rng.random() < 0.15:
                    lab = "(%s=%s)" % (rng.choice(["t", "u"]), lab)
                elems.append(lab)
            blocks.append(".".join(elems))
        words.append("..".join(blocks))
    return rng.choice([", ", ",", " ", "|"]).join(words)


def _value(rng: random.Random) -> str:
    v = rng.choice(["1", "2", "512", "1G", "x y", '"q"', "'s'", "${k}", "${mem}-${nope}", "",
                    "${name}"])
    return v


def _stmt(rng: random.Random, depth: int, in_cond: bool) -> list:
    r = rng.random()
    if r < 0.35:
        return ["%s %s %s" % (rng.choice(KEYS), rng.choice(OPS), _value(rng))]
    if r < 0.45:
        return ["%s %s" % (rng.choice(["only", "no"]), _filter(rng))]
    if r < 0.55 and depth < 3:
        head = ("!" if rng.random() < 0.3 else "") + _filter(rng).replace(" ", "")
        if rng.random() < 0.4:
            return ["%s: %s" % (head, _stmt(rng, depth + 1, True)[0])]
        body = _block(rng, depth + 1, True)
        return [head + ":"] + ["    " + line for line in body]
    if r < 0.75 and depth < 3 and not in_cond:
        name = rng.choice(["", " t", " u"])
        meta = rng.choice(["", " [default=%s]" % rng.choice(LABELS)])
        lines = ["variants%s%s:" % (name, meta)]
        for lab in rng.sample(LABELS, rng.randint(1, 3)):
            at = "@" if rng.random() < 0.2 else ""
            if rng.random() < 0.2:
                lab = lab + "." + rng.choice(LABELS)
            dep = (" " + rng.choice(LABELS)) if rng.random() < 0.15 else ""
            lines.append("    - %s%s:%s" % (at, lab, dep))
            for line in _block(rng, depth + 1, False) if rng.random() < 0.7 else []:
                lines.append("        " + line)
        return lines
    if r < 0.8:
        return ["del %s" % rng.choice(KEYS)]
    if r < 0.83 and not in_cond:
        return ["suffix _%s" % rng.choice(LABELS)]
    if r < 0.85 and not in_cond:
        return ["join %s %s" % (rng.choice(LABELS), rng.choice(LABELS))]
    if r < 0.9:  # noise line: may well be an error
        return ["".join(rng.choice(NOISE + LABELS) for _ in range(rng.randint(1, 5)))]
    return ["%s = %s" % (rng.choice(KEYS), _value(rng))]


def _block(rng: random.Random, depth: int, in_cond: bool) -> list:
    lines: list = []
    for _ in range(rng.randint(1, 4)):
        lines.extend(_stmt(rng, depth, in_cond))
    return lines


def random_config(rng: random.Random, pipe: bool = True) -> str:
    text = "\n".join(_block(rng, 0, False) + _block(rng, 0, False)) + "\n"
    return text if pipe else text.replace("|", ",")
