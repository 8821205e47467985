"""Config snippets covering the language; expected dicts live in expected.json.

expected.json is produced by ``make_expected.py`` with avocado-vt 113.0 (run
it only when adding cases; the test suite itself needs no avocado-vt).
Each case: name -> dict(files={relative path: text}, main=path, strings=[...],
defaults=bool, expand=[...]).  ``main`` is parsed with parse_file.
"""

BASIC = """
a = 1
variants:
    - one:
        b = x
    - two:
        b = y
variants:
    - red:
    - blue:
        c = z
"""

PREFIXED = """
variants @foo:
    - @a:
        x = 1
    - b:
variants !bar:
    - c:
    - @d:
variants [default=f] baz:
    - e:
    - f:
variants "q":
    - @g:
    - h:
variants =z:
    - i:
    - @j:
"""

CASES = {
    "basic": {"files": {"main.cfg": BASIC}},
    "named_variants": {"files": {"main.cfg": """
variants guest:
    - linux:
        os = l
    - win:
        os = w
variants disk:
    - qcow2:
    - raw:
only (guest=linux)
"""}},
    "dotted_label_and_deps": {"files": {"main.cfg": """
variants:
    - boot:
    - reboot: boot
    - migrate.tcp: boot, reboot
variants:
    - RHEL.8:
    - Fedora.39:
"""}},
    "default_meta_and_at": {"files": {"main.cfg": """
variants [default=b]:
    - a:
    - b:
    - c:
variants:
    - @x:
    - y:
"""}},
    "defaults_mode": {"files": {"main.cfg": """
variants [default=b]:
    - a:
    - b:
    - c:
variants guest:
    - @x:
    - y:
"""}, "defaults": True},
    "defaults_mode_expand": {"files": {"main.cfg": """
variants size [default=b]:
    - a:
    - b:
variants guest:
    - @x:
    - y:
"""}, "defaults": True, "expand": ["guest"]},
    "nested_blocks": {"files": {"main.cfg": """
variants:
    - install:
        variants:
            - cdrom:
                m = cd
            - url:
                m = net
        after = yes
    - boot:
variants:
    - up:
    - smp2:
"""}},
    "filters_or_and_adjacent": {"files": {"main.cfg": BASIC + """
variants:
    - Linux:
        variants:
            - RHEL:
                variants:
                    - 7:
                    - 8:
            - Fedora:
    - Windows:
only RHEL.8, Fedora..one, Windows
no blue..two
"""}},
    "filter_whitespace_or": {"files": {"main.cfg": BASIC + "only one red\n"}},
    # our one extension: avocado-vt rejects '|', so its expectation is the ',' spelling
    "filter_pipe_extension": {"files": {"main.cfg": BASIC + "only one|red\n"},
                              "ref_files": {"main.cfg": BASIC + "only one, red\n"}},
    "filter_var_label": {"files": {"main.cfg": """
variants guest:
    - one:
variants disk:
    - one:
    - two:
only (disk=one)
"""}},
    "conditions": {"files": {"main.cfg": BASIC + """
one:
    d = 1
    blue: e = 2
!one: d = 3
red..two: f = 4
one, blue: g = 5
one: red: h = 6
"""}},
    "condition_with_filters": {"files": {"main.cfg": BASIC + """
one:
    only red
    no blue
variants:
    - h1:
        two:
            only blue
    - h2:
"""}},
    "include": {"files": {"main.cfg": "x = 0\ninclude sub/inc.cfg\ny = ${x}-${z}\n",
                          "sub/inc.cfg": "z = 7\nvariants:\n    - p:\n    - q:\n        z = 8\n"}},
    "del_and_regex_ops": {"files": {"main.cfg": """
img_a = 1
img_b = 2
other = 3
variants:
    - v1:
        img_.* ?= 9
    - v2:
        img_.* ?+= _s
    - v3:
        img_.* ?<= p_
    - v4:
        del other
"""}},
    "operators": {"files": {"main.cfg": """
a = 1
a += 2
a <= 0
b ~= first
b ~= second
c = "quoted value"
d = 'single'
e = x = y
f = ${a}/${missing}/${a}
g = ${c}
variants:
    - v:
        a += ${b}
        h ~= ${a}
        name = ignored
"""}},
    "predict_quirk": {"files": {"main.cfg": """
k = 1
k ?= 2
m = 1
variants:
    - v:
        k = 5
        kk = 6
        k ?+= x
"""}},
    "min_max_fixed": {"files": {"main.cfg": """
mem = 1024
mem_max = 512
cpus = 2
cpus_min = 4
disk = 10G
disk_max = 2048M
drive = ide
drive_fixed = virtio
"""}},
    "suffix": {"files": {"main.cfg": """
variants:
    - a:
        x = 1
        y = 1
        suffix _a
    - b:
        x = 2
        suffix _b
x = 1
"""}},
    "join": {"files": {"main.cfg": """
variants:
    - a:
        v = 1
    - b:
        w = 2
    - c:
join a b
"""}},
    "strings_after_file": {"files": {"main.cfg": BASIC}, "strings": ["only two", "a = 9"]},
    "empty_variant_name_var": {"files": {"main.cfg": """
variants tests:
    - t1:
        type = x
    - t2:
        type = y
        variants:
            - s1:
            - s2:
"""}},
    # issue 10: avocado-vt names a block after the *first* token before its name
    # ("@", "!", an operator...), and a name after [meta] after the token's type
    "variants_prefixed_names": {"files": {"main.cfg": PREFIXED}},
    "variants_prefixed_names_filtered": {"files": {"main.cfg": PREFIXED + """
only a, c
no (q=h)
d: y = 2
"""}},
    "variants_prefixed_names_defaults": {"files": {"main.cfg": PREFIXED}, "defaults": True},
    "variants_prefixed_names_expand_at": {"files": {"main.cfg": PREFIXED}, "defaults": True,
                                          "expand": ["@", "!", "q", "foo", "baz"]},
    "variants_prefixed_names_expand_class": {
        "files": {"main.cfg": PREFIXED}, "defaults": True,
        "expand": ["<class 'virttest.cartesian_config.LIdentifier'>", "="]},
    "variants_odd_headers": {"files": {"main.cfg": """
variants -foo:
    - a:
variants ,x:
    - b:
variants )x:
    - c:
variants ?<=x:
    - d:
variants  @ foo :
    - e:
variants [x] :
    - f:
variants "" foo:
    - g:
variants "a|b":
    - h:
"""}},
}

# Config errors: name -> (files, main, expected exception class name, line number)
ERRORS = {
    "bad_char": ({"main.cfg": "a = 1\nonly a$b\n"}, "main.cfg", "LexerError", 2),
    "missing_colon_variants": ({"main.cfg": "variants\n    - a:\n"}, "main.cfg", "ParserError", 1),
    "missing_include": ({"main.cfg": "a = 1\n\ninclude nothere.cfg\n"}, "main.cfg",
                        "MissingIncludeError", 3),
    "variants_in_condition": ({"main.cfg": "x = 1\nfoo:\n    variants:\n        - a:\n"},
                              "main.cfg", "ParserError", 3),
    "missing_default": ({"main.cfg": "variants [default=z]:\n    - a:\n    - b:\n"},
                        "main.cfg", "ParserError", 2),
    "bad_filter": ({"main.cfg": "variants:\n    - a:\nonly a...b\n"}, "main.cfg",
                   "ParserError", 3),
    "statement_no_operator": ({"main.cfg": "a = 1\nfoo bar\n"}, "main.cfg", "ParserError", 2),
    "error_in_include": ({"main.cfg": "include inc.cfg\n", "inc.cfg": "a = 1\nb = 2\nonly (x\n"},
                         "inc.cfg", "ParserError", 3),
    "variants_pipe_in_header": ({"main.cfg": "variants |foo:\n    - a:\n"}, "main.cfg",
                                "LexerError", 1),
    "variants_at_after_meta": ({"main.cfg": "variants [x] @foo:\n    - a:\n"}, "main.cfg",
                               "ParserError", 1),
    "variants_two_prefixed_names": ({"main.cfg": "variants @foo @bar:\n    - a:\n"},
                                    "main.cfg", "ParserError", 1),
    "filter_at_label": ({"main.cfg": "variants @foo:\n    - a:\nonly (@=a)\n"}, "main.cfg",
                        "ParserError", 3),
    "non_variant_in_block": ({"main.cfg": "variants:\n    - a:\n    b = 1\n"}, "main.cfg",
                             "ParserError", 3),
}
