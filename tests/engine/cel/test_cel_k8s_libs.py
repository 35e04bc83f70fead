"""Kubernetes libraries implemented in Python: quantity, ip/cidr, url, lists, regex find, semver, format."""

import pytest

from gpulint.engine.cel import CelCompileError, CelEvalError


# ----------------------------------------------------------------------------------------- quantity
@pytest.mark.parametrize("expr", [
    "quantity('1') == quantity('1000m')",
    "quantity('1Ki') == quantity('1024')",
    "quantity('1e3') == quantity('1k')",
    "quantity('1.5Gi') == quantity('1536Mi')",
    "quantity('0.1') == quantity('100m')",
    "quantity('1Gi').isGreaterThan(quantity('1G'))",
    "quantity('1G').isLessThan(quantity('1Gi'))",
    "quantity('1Gi').compareTo(quantity('1Gi')) == 0",
    "quantity('500m').compareTo(quantity('1')) == -1",
    "quantity('2').asInteger() == 2",
    "quantity('2Gi').isInteger()",
    "!quantity('1.5').isInteger()",
    "quantity('-3').sign() == -1 && quantity('0').sign() == 0 && quantity('3').sign() == 1",
    "quantity('1.5').asApproximateFloat() == 1.5",
    "quantity('1').add(quantity('500m')) == quantity('1.5')",
    "quantity('1').add(2) == quantity('3')",
    "quantity('1').sub(quantity('500m')) == quantity('500m')",
    "quantity('1').sub(3) == quantity('-2')",
    "quantity('1n') == quantity('0.000000001')",
    "quantity('0.0000000001') == quantity('1n')",          # rounded up to nano precision
    "quantity('+5') == quantity('5')",
    "quantity('10E') == quantity('10000P')",
    "isQuantity('1.5') && isQuantity('100Mi') && isQuantity('1e-3')",
    "!isQuantity('200K') && !isQuantity('') && !isQuantity('1Gb') && !isQuantity('abc')",
    "type(quantity('1')) == type(quantity('2'))",
])
def test_quantity_true(ev, expr):
    assert ev(expr) is True


@pytest.mark.parametrize("expr,message", [
    ("quantity('200K')", "unable to parse quantity's suffix"),
    ("quantity('')", "quantities must match the regular expression"),
    ("quantity('1.5').asInteger()", "cannot convert value to integer"),
    ("quantity('1e100000')", "unable to parse numeric part of quantity"),
    ("quantity('1x2')", "quantities must match the regular expression"),
])
def test_quantity_errors(ev, expr, message):
    with pytest.raises(CelEvalError, match=message):
        ev(expr)


def test_quantity_binary_si_is_capped(ev):
    assert ev("quantity('16Ei') == quantity('9223372036854775807')") is True


def test_quantity_misuse_is_a_compile_error(env):
    with pytest.raises(CelCompileError):
        env.compile("quantity('1').major()")
    with pytest.raises(CelCompileError):
        env.compile("quantity('1') == 1")


def test_quantity_from_manifest_strings(ev):
    obj = {"spec": {"containers": [{"resources": {"limits": {"memory": "64Gi"}}}]}}
    assert ev("object.spec.containers.all(c, quantity(c.resources.limits.memory)"
              ".isLessThan(quantity('80Gi')))", obj) is True


# ------------------------------------------------------------------------------------------ ip / cidr
@pytest.mark.parametrize("expr", [
    "ip('10.0.0.1').family() == 4 && ip('::1').family() == 6",
    "ip('::1').isLoopback() && ip('127.0.0.2').isLoopback()",
    "ip('0.0.0.0').isUnspecified() && ip('::').isUnspecified()",
    "ip('fe80::1').isLinkLocalUnicast() && ip('169.254.1.1').isLinkLocalUnicast()",
    "ip('ff02::1').isLinkLocalMulticast() && ip('224.0.0.5').isLinkLocalMulticast()",
    "ip('10.1.2.3').isGlobalUnicast() && !ip('255.255.255.255').isGlobalUnicast()",
    "ip('2001:db8::1') == ip('2001:0db8:0:0::1')",
    "ip.isCanonical('2001:db8::1') && !ip.isCanonical('2001:DB8::1')",
    "isIP('1.2.3.4') && !isIP('1.2.3') && !isIP('01.2.3.4') && !isIP('fe80::1%eth0')",
    "string(ip('2001:0db8::0001')) == '2001:db8::1'",
    "cidr('10.0.0.1/8').masked() == cidr('10.0.0.0/8')",
    "string(cidr('10.0.0.1/8')) == '10.0.0.1/8'",
    "cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))",
    "cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16') && !cidr('10.0.0.0/16').containsCIDR(cidr('10.0.0.0/8'))",
    "cidr('10.0.0.0/8').prefixLength() == 8 && cidr('10.0.0.1/8').ip() == ip('10.0.0.1')",
    "isCIDR('::/0') && !isCIDR('10.0.0.0/33') && !isCIDR('10.0.0.0/08') && !isCIDR('10.0.0.0')",
    "!cidr('10.0.0.0/8').containsIP('::1')",
    "type(ip('1.2.3.4')) != type(cidr('1.2.3.4/32'))",
])
def test_ip_cidr_true(ev, expr):
    assert ev(expr) is True


@pytest.mark.parametrize("expr,message", [
    ("ip('::ffff:1.2.3.4')", "IPv4-mapped IPv6 address is not allowed"),
    ("ip('fe80::1%eth0')", "IP Address with zone value is not allowed"),
    ("ip('1.2.3')", "parse error"),
    ("cidr('10.0.0.0')", "parse error"),
])
def test_ip_errors(ev, expr, message):
    with pytest.raises(CelEvalError, match=message):
        ev(expr)


# ---------------------------------------------------------------------------------------------- url
def test_url_accessors(ev):
    u = "url('https://user@example.com:8443/a%20b?x=1&x=2&y=')"
    assert ev(f"{u}.getScheme()") == "https"
    assert ev(f"{u}.getHost()") == "example.com:8443"
    assert ev(f"{u}.getHostname()") == "example.com"
    assert ev(f"{u}.getPort()") == "8443"
    assert ev(f"{u}.getEscapedPath()") == "/a%20b"
    assert ev(f"{u}.getQuery()") == {"x": ["1", "2"], "y": [""]}
    assert ev("url('https://[::1]:80/').getHostname()") == "::1"
    assert ev("isURL('https://example.com') && isURL('/abs/path') && !isURL('example.com')") is True
    with pytest.raises(CelEvalError, match="URL parse error"):
        ev("url('relative')")


# -------------------------------------------------------------------------------------------- lists
@pytest.mark.parametrize("expr,expected", [
    ("[1, 2, 3].isSorted()", True),
    ("[1, 3, 2].isSorted()", False),
    ("['a', 'b'].isSorted()", True),
    ("[].sum()", 0),
    ("[1, 2, 3].sum()", 6),
    ("[1.5, 2.5].sum()", 4.0),
    ("[3, 1, 2].min()", 1),
    ("[3, 1, 2].max()", 3),
    ("['b', 'a'].min()", "a"),
    ("[1, 2, 1].indexOf(1)", 0),
    ("[1, 2, 1].lastIndexOf(1)", 2),
    ("['a', 'b'].indexOf('c')", -1),
    ("[[1], [2]].indexOf([2])", 1),
    ("'abcabc'.indexOf('c')", 2),
    ("'abcabc'.lastIndexOf('b')", 4),
    ("'abcabc'.indexOf('b', 2)", 4),
    ("'abcabc'.lastIndexOf('b', 3)", 1),
    ("'héllo'.indexOf('l')", 2),
])
def test_list_functions(ev, expr, expected):
    assert ev(expr) == expected


def test_list_functions_on_data(ev):
    obj = {"l": [3, 1, 2], "s": "abc", "b": [True, 1]}
    assert ev("object.l.indexOf(1) == 1 && object.s.indexOf('c') == 2", obj) is True
    assert ev("object.b.indexOf(1)", obj) == 1                      # true is not 1
    assert ev("[duration('2s'), duration('1s')].min() == duration('1s')") is True


def test_list_function_errors(ev):
    with pytest.raises(CelEvalError, match="min called on empty list"):
        ev("[].min()")
    with pytest.raises(CelEvalError, match="max called on empty list"):
        ev("object.l.max()", {"l": []})
    with pytest.raises(CelEvalError, match="no such overload"):
        ev("object.l.sum()", {"l": [1, 1.5]})
    with pytest.raises(CelEvalError, match="index out of range: 9"):
        ev("'abc'.indexOf('a', 9)")


def test_first_last_are_not_kubernetes(env):
    with pytest.raises(CelCompileError, match="first"):
        env.compile("[1].first()")


# -------------------------------------------------------------------------------------------- regex
@pytest.mark.parametrize("expr,expected", [
    ("'hello'.find('l+')", "ll"),
    ("'hello'.find('x')", ""),
    ("'a1b22c333'.findAll('[0-9]+')", ["1", "22", "333"]),
    ("'a1b22c333'.findAll('[0-9]+', 2)", ["1", "22"]),
    ("'a1b22c333'.findAll('[0-9]+', -1)", ["1", "22", "333"]),
    ("'a1b22c333'.findAll('[0-9]+', 0)", []),
    ("'k=v; a=b'.findAll('(\\\\w)=(?P<v>\\\\w)')", ["k=v", "a=b"]),
    ("'x(y)'.find('[(]y[)]')", "(y)"),
    ("'abc'.matches('^a.c$')", True),
])
def test_regex(ev, expr, expected):
    assert ev(expr) == expected


def test_regex_is_re2(ev, env):
    with pytest.raises(CelEvalError, match="error parsing regexp"):
        ev("'aa'.find('(a)\\\\1')")                                 # backreference
    with pytest.raises(CelEvalError, match="error parsing regexp"):
        ev("'ab'.find(object.p)", {"p": "a(?=b)"})                   # lookahead
    with pytest.raises(CelCompileError, match="invalid matches argument"):
        env.compile("'a'.matches('(')")
    # catastrophic for a backtracking engine, linear for RE2
    assert ev("object.s.matches('^(a+)+$')", {"s": "a" * 5000 + "b"}) is False


# ------------------------------------------------------------------------------------------- semver
@pytest.mark.parametrize("expr", [
    "semver('1.2.3').major() == 1 && semver('1.2.3').minor() == 2 && semver('1.2.3').patch() == 3",
    "semver('1.2.3').isLessThan(semver('1.10.0'))",
    "semver('1.2.3-alpha').isLessThan(semver('1.2.3'))",
    "semver('1.2.3-alpha.1').compareTo(semver('1.2.3-alpha.beta')) == -1",
    "semver('1.2.3-2').compareTo(semver('1.2.3-10')) == -1",
    "semver('2.0.0').isGreaterThan(semver('1.99.99'))",
    "semver('1.2.3+build.1') == semver('1.2.3')",
    "semver('v1.2', true) == semver('1.2.0') && semver('v01.02.03', true).patch() == 3",
    "isSemver('1.2.3') && !isSemver('1.2') && isSemver('1.2', true) && !isSemver('v1.2.3')",
])
def test_semver(ev, expr):
    assert ev(expr) is True


def test_semver_errors(ev):
    with pytest.raises(CelEvalError, match="leading zeroes"):
        ev("semver('01.2.3')")
    with pytest.raises(CelEvalError, match="No Major.Minor.Patch elements found"):
        ev("semver('1.2')")
    with pytest.raises(CelEvalError, match="short version cannot contain PreRelease/Build meta data"):
        ev("semver('1.2-rc1', true)")


# ------------------------------------------------------------------------------------ named formats
def test_format_named_and_validate(ev):
    assert ev("format.named('dns1123Label').hasValue()") is True
    assert ev("format.named('nope').hasValue()") is False
    assert ev("format.dns1123Label().validate('my-name').hasValue()") is False
    assert ev("format.named('dns1123Label').value().validate('My_Name').value()") == [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
        "and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]
    assert ev("format.dns1123Label().validate('a.b').value()") == ["must not contain dots"]
    assert ev("format.dns1123LabelPrefix().validate('my-prefix-').hasValue()") is False
    assert ev("format.qualifiedName().validate('example.com/MyName').hasValue()") is False
    assert ev("format.qualifiedName().validate('/x').value()") == ["prefix part must be non-empty"]
    assert ev("format.labelValue().validate('').hasValue()") is False
    assert ev("format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue()") is False
    assert ev("format.byte().validate('%%%').value()") == ["invalid base64"]
    assert ev("format.date().validate('2021-02-30').value()") == ["invalid date"]
    assert ev("format.datetime().validate('2021-01-01T00:00:00Z').hasValue()") is False
    assert ev("format.uri().validate('foo').value()") == ['parse "foo": invalid URI for request']
    assert ev("format.dns1035Label().validate('1abc').hasValue()") is True
    assert ev("format.dns1123Subdomain().validate('a' * 1).hasValue()".replace(" * 1", "")) is False
