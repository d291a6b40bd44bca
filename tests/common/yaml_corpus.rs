//! Awkward YAML files: held to real sops byte for byte (yaml_store_interop) and to the full
//! parser by the fast path (yaml_fastpath).

pub const CORPUS: &[(&str, &str)] = &[
    (
        "flow_pairs_in_flow_sequences",
        "port: [k: v]\nmore: [a, k: v, {x: 1}, [y]]\nanchored: &p [k: v]\n",
    ),
    (
        "anchored_block_collections",
        "base: &b\n    - x\n    - k: 1\n      j: 2\nuse: *b\nown_line:\n    &o\n    - 1\nm: &m\n    k: 1\nn: *m\nflow: &f [1, 2]\nf2: *f\n",
    ),
    (
        "long_keys_are_explicit",
        "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: v\nmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm:\n    a: 1\n    b: [1, 2]\nl:\n    - nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn: x\nmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmz:\n    - 1\n    - 2\nshort: 1\n",
    ),
    (
        "comments_basic",
        "# head top\na: 1 # line a\n# head b\nb:\n    # first in b\n    c: 2\n    # foot in b\n# after b at top\nd: 3\n# final foot\n",
    ),
    ("dedent_blank", "a:\n  b: 1\n# dedent\n\nc: 2\n"),
    (
        "foot_then_blank",
        "a:\n  b: 1\n  # foot b\n\n  # after blank indented\nc: 2\n",
    ),
    (
        "line_comments_on_collections",
        "a: # line on a\n  b: 1\nl: # line on l\n  # before first item\n  - x # line x\n  # between\n  - y\n  # foot of list\nz: 1\n",
    ),
    ("indentless_list", "l:\n- a\n# c0\n- b\n# c1\nm: 1\n"),
    (
        "blank_lines",
        "a: 1\n\n# c after blank\n\nb: 2\n\n# trailing after blank\n",
    ),
    (
        "list_of_maps_comments",
        "l:\n    - x: 1 # lc\n      # foot in item map\n      y: 2\n    # between items\n    - z: 3\n      # foot of z\n# top\nq: 1\n",
    ),
    (
        "blank_indented_blank",
        "a:\n  b: 1\n\n  # after blank, indented, then blank\n\nc: 2\n",
    ),
    ("over_indented", "a:\n  b: 1\n    # over-indented\nc: 2\n"),
    ("col2_deep", "a:\n  b:\n    c: 1\n  # col2\nd: 1\n"),
    (
        "staircase",
        "a:\n  b:\n    c: 1\n    # col4\n  # col2\n# col0\nd: 1\n",
    ),
    ("col1", "a:\n  b:\n    c: 1\n # col1\nd: 1\n"),
    ("col4_after_blank", "a:\n  b:\n    c: 1\n\n    # col4 after blank\nd: 1\n"),
    (
        "groups",
        "a:\n  b:\n    c: 1\n    # col4\n    # col4b\n\n    # col4 after blank\n  e: 1\n",
    ),
    (
        "many_blank_groups",
        "a:\n    b: 1\n\n    # c1\n    # c2\n\n    # c3\n\nd: 1\n",
    ),
    (
        "layout",
        "l:\n  - x: 1\n    m:\n      n: 2\n    s:\n      - a\n      - b\n    t: |\n      line1\n      line2\n    e: {}\n    f: []\n  - - a\n    - - b\n      - c\n    - d: 1\n      e: 2\n  - {}\n  - []\n  - |-\n    lit\n    more\n  # foot of list after map\ntop: |2\n   leading space\n  second\nk: \"a: b\"\nm:\n  - x: 1\n    # foot of x-map\n",
    ),
    (
        "multi_doc",
        "a: 1\n# foot doc1\n---\n# head doc2\nb: 2\n---\nc: {}\n# after empty map\nd: []\n# after empty list\n",
    ),
    (
        "null_values",
        "a:\n  # only comment\nb: 1\nl:\n  - a\n  -\n  # c\n  - c\nn: ~\nm: null\ne:\n",
    ),
    (
        "strings",
        "plain: hello world\nyes: yes\nno: No\non: on\ny: n\nempty: \"\"\nsq: 'it''s'\ndq: \"say \\\"hi\\\"\"\nat: \"@at\"\nstar: '*star'\ncolon: 'a: b'\nhash: 'a #b'\ndash: '- a'\ntrail: 'abc '\nlead: ' abc'\ntab: \"a\\tb\"\nemoji: \"🔑 key\"\ncjk: 日本語\nnbsp: \"a\\u00a0b\"\nbell: \"\\a\"\nbom: \"\\ufeff\"\nnel: \"\\x85\"\nbackslash: 'C:\\path'\nnum_str: \"123\"\nfloat_str: '1.0'\ndate_str: \"2024-01-01\"\nnull_str: 'null'\nbool_str: 'true'\nbase60: \"1:20\"\nurl: http://example.com/a?b=c#frag\npct: '%x'\nbang: '!x'\nquestion: '? x'\nqmark: ?x\ngt: '>x'\npipe: '|x'\namp: '&x'\ncomma: a, b\nbrackets: a[b]{c}\ndocmark: '--- x'\ndots: '... x'\n",
    ),
    (
        "multiline",
        "lit: |\n  line1\n  line2\nstrip: |-\n  no newline\nkeep: |+\n  two newlines\n\nfolded: >\n  folded\n  text\n\n  para\nlead_space: |2\n   indented first\n  second\ndq_nl: \"a\\nb\"\ndq_trailing_space: \"a \\nb\"\ndq_cr: \"a\\r\\nb\"\ntabs: \"a\\n\\tb\"\nonly_nl: \"\\n\"\ntwo_nl: \"\\n\\n\"\nlead_nl: \"\\nabc\"\nblank_inside: \"a\\n\\nb\\n\"\n",
    ),
    (
        "numbers",
        "i: 42\nneg: -7\nhex: 0x1F\noct: 0o17\nund: 1_000\nplus: +5\nmax: 9223372036854775807\nmin: -9223372036854775808\nbig: 123456789012345678901234567890\nf: 1.5\none: 1.0\nexp: 1e10\nsmall: 1.5e-7\ntiny: 0.000001\nmillion: 1500000.0\nintmillion: 1500000\ninf: .inf\nninf: -.inf\nnan: .nan\nzero: 0\nnegzero: -0.0\ndot5: .5\nlegacy_oct: 0777\nbad_oct: 09\nf_und: 1_000.5\n",
    ),
    (
        "dates",
        "d: 2024-01-01\nt: 2001-12-14t21:59:43.10-05:00\ns: 2001-12-14 21:59:43.10\nz: 2024-01-15T10:00:00Z\nshort: 2024-1-2\nutc0: 2024-01-15T10:00:00+00:00\nnano: 2024-01-15T10:00:00.123456789Z\nq: '2024-01-01'\nbad: 2024-02-30\n",
    ),
    (
        "empty_and_nested",
        "em: {}\nel: []\nnested:\n  deeper:\n    deepest:\n      leaf: v\n    list:\n      - - 1\n        - 2\n      - - 3\n  other: x\nlist_of_lists:\n- - a\n  - b\n- - c\n",
    ),
    (
        "anchors",
        "base: &base\n  user: admin\n  pass: secret\ndev:\n  <<: *base\n  host: dev\nlist: &l\n  - 1\n  - 2\ncopy: *l\nscalar: &s hello\nref: *s\n",
    ),
    (
        "keys_needing_quotes",
        "\"y\": 1\n\"n\": 2\n\"123\": 3\n\"\": 4\n'@at-sign': 5\n\"tab\\tkey\": 6\n\"true\": 7\n\"null\": 8\n\"a: b\": 9\n\"2024-01-01\": 10\nnormal key: 11\n\"🔑\": 12\nsops_not_metadata: 13\n",
    ),
    (
        "unicode",
        "greet: héllo wörld\nrtl: שלום\nemoji_only: 😀\nmixed: \"a😀b\"\nzw: \"a\\u200bb\"\nls: \"a\\u2028b\"\n",
    ),
    (
        "comments_in_nested_lists",
        "root:\n  # head of list\n  - a # inline a\n  # before b\n  - b\n  - # dash comment\n    k: v\n  - - x # deep\n    # deep foot\n  # list foot\n# top foot\n",
    ),
    (
        "comment_edge_text",
        "#no space\n#\n#   many spaces\na: 1 #tight\nb: 'x # not a comment'\nc: \"y # neither\"\n# ENC-looking: ENC[AES256_GCM,data:abc]\n",
    ),
    (
        "lone_doc_marker_then_map",
        "---\na: 1\n...\n---\nb: 2\n",
    ),
    (
        "long_values",
        "long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb ccccccccccccccccccccccccccc\nlong_dq: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\tyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy zzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"\n",
    ),
];
