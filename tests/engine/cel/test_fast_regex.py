"""``matches`` through the pattern cache (fast_regex.py) answers exactly as cel-cpp's RE2 does."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpulint.engine.cel import CelEvalError
from gpulint.engine.cel.env import _native_matches
from gpulint.engine.cel.errors import LibraryError
from gpulint.engine.cel.fast_regex import MAX_TEXT, FastMatcher, translate


def native(text, pattern):
    try:
        return _native_matches()(text, pattern)
    except LibraryError as error:
        return ("error", str(error))


def _matcher():
    matcher = FastMatcher(lambda t, p: _native_matches()(t, p))
    matcher.WARM = 1  # translate on first use: the translation is what these tests check
    return matcher


def fast(text, pattern, matcher=_matcher()):
    try:
        return matcher(text, pattern)
    except LibraryError as error:
        return ("error", str(error))


PATTERNS = [
    "^[0-9]+$", "^[1-9][0-9]*$", "^[0-9]+(\\.0*)?$", "[smhd]$", "^ppr:[0-9]+:node", "^[^:@]*[A-Z]",
    "^(ml\\.)?(p4d|p4de)\\.24xlarge$", "(?i)gb[23]00", "^(BM|VM)\\.GPU.*\\.1$", "(?i)-(MIG|SHARED)",
    "(^|/)(ba|da|z|k|a)?sh$", "-[0-9]+g$", "^a2-megagpu-16g$", "^[0-9]+[A-Za-z]*$", "^[0-9]{1,12}[smhd]?$",
    "a.c", "^$", "x|", "(", "[", "a{2,1}", "\\d+", "\\w\\s\\W\\S\\D", "[\\d.]+", "[-a]", "[a-]", "[]a]", "[^\\n]",
    "a**", "(?i)k", "a{1001}", "\\bword", "[[:alpha:]]", "\\pL", "a(?=b)", "(?P<n>a)", "\\_", "\\ ", "a$b",
]
TEXTS = ["", "0", "12", "12a", "a12", "1.0", "1.5", "p4d.24xlarge", "ml.p4de.24xlarge", "GB200", "gb300",
         "BM.GPU.H100.8", "VM.GPU.A10.1", "nvidia.com/mig-1g.10gb", "A100-MIG", "a-shared", "/bin/bash", "sh",
         "zsh", "a\nb", "12\n", "K", "\u212a", "ſ", "x" * 300, "9" * 5000, "é1", "ppr:4:node", "a-8g",
         "abc", "a.c", "]", "-", "\t", "word"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_known_patterns_agree_with_re2(pattern):
    for text in TEXTS:
        assert fast(text, pattern) == native(text, pattern), (text, pattern)


def test_translated_subset():
    assert translate("^[0-9]+$")[2] == MAX_TEXT
    assert translate("^(ml\\.)?(p4d|p4de)\\.24xlarge$") is not None
    assert translate("^[0-9]+(\\.0*)?$") is not None
    # unbounded repetitions of groups, lookarounds, word boundaries, other flags: left to RE2
    for pattern in ("(a+)+", "(ab)*", "(a|aa)+", "a(?=b)", "\\bx", "[[:alpha:]]", "(?s).", "é"):
        assert translate(pattern) is None, pattern
    # more backtracking, shorter text
    assert translate("a.*b.*c")[2] < translate("^a.*b.*c")[2] < translate("^a.*b")[2]


_atom = st.one_of(
    st.sampled_from(list("ab.-0x") + ["\\.", "\\d", "\\w", "\\s", "[a-c]", "[^a]", "[0-9.]", "(a|b)", "(?:ab)",
                                      "(a)", "^", "$"]),
)
_quant = st.sampled_from(["", "", "", "*", "+", "?", "{2}", "{1,3}", "{2,}", "*?", "+?"])
_pattern = st.lists(st.tuples(_atom, _quant), min_size=1, max_size=6).map(
    lambda items: "".join(a + q for a, q in items))
_patterns = st.one_of(_pattern, st.tuples(_pattern, _pattern).map("|".join),
                      _pattern.map(lambda p: "(?i)" + p))
_texts = st.text(alphabet=st.sampled_from(list("abcAB0123.-x\n _\u212aé")), max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_patterns, st.lists(_texts, min_size=1, max_size=8))
def test_random_patterns_agree_with_re2(pattern, texts):
    for text in texts:
        assert fast(text, pattern) == native(text, pattern), (text, pattern)


@pytest.mark.parametrize("pattern", ["^(a|aa)*$", "(a*)*b", "^[a]*[a]*[a]*b", "a.*a.*a.*b", "^(a?){20}a{20}$",
                                     "(x+x+)+y", "^[0-9]*[0-9]*[0-9]*[0-9]*[0-9]*[0-9]*[0-9]*x"])
def test_pathological_patterns_are_bounded(pattern):
    found = translate(pattern)
    longest = found[2] if found else 0
    for text in ("a" * 5000 + "!", "a" * longest + "!", "0" * longest + "!", "x" * longest):
        started = time.perf_counter()
        assert fast(text, pattern) == native(text, pattern)
        assert time.perf_counter() - started < 0.5, (pattern, len(text))


def test_policy_programs_use_the_cache_and_keep_messages(env):
    program = env.compile("object.s.matches('^[0-9]+$')", expect="bool")
    assert "__gpl_matches" in program.source
    assert program.evaluate(env.activation(object={"s": "42"})) is True
    for expression, message in (("object.n.matches('a')", "no such overload: (int).matches(string)"),
                                ("matches(object.n, 'a')", "no such overload: matches(int, string)"),
                                ("object.s.matches(object.p)", "error parsing regexp: missing ): (a")):
        with pytest.raises(CelEvalError, match=r"^" + __import__("re").escape(message) + "$"):
            env.compile(expression).evaluate(env.activation(object={"s": "a", "n": 1, "p": "(a"}))
