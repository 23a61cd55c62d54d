"""Escaping for each context a data string can land in on a map page.

folium escapes nothing: values shown by ``GeoJsonTooltip``/``GeoJsonPopup`` are inserted as raw
HTML, and plain-string ``Tooltip``/``Popup`` text is placed in a JavaScript template literal,
where ``${...}`` runs at page load even after :func:`html.escape`.  The map pages of this package
therefore never hand data to those classes.  Every string that comes from data or users (feature
properties, layer titles, site names, rule messages, file names) goes through exactly one of the
functions below, chosen for where it lands:

===========================  =======================================================
context                      function
===========================  =======================================================
HTML text                    :func:`html_text`
HTML attribute (quoted)      :func:`html_attr`
URL in an ``href``           :func:`href` (:func:`safe_url` for script)
JavaScript string literal    :func:`js_string`
JSON inside ``<script>``     :func:`script_json`
JavaScript template literal  :func:`js_template` (the maps themselves never use one)
===========================  =======================================================

The page's data travel as one JSON document written by :func:`script_json`; the page's script
puts plain strings into the DOM with ``textContent`` and uses ``innerHTML`` only for the few
values whose key ends in ``_html``, which are built in Python from escaped parts.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import quote as quote_value

__all__ = [
    "href",
    "html_attr",
    "html_text",
    "js_string",
    "js_template",
    "relative_url",
    "safe_url",
    "script_json",
]

# Characters that must not appear literally in a script element's text: "<" (so "</script>" and
# "<!--" cannot end or confuse the element), ">" and "&" (harmless in JS, escaped for symmetry
# with HTML tools), and the two line terminators that JSON allows in strings but older
# JavaScript parsers did not.
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_UNSAFE_RE = re.compile("[<>&\u2028\u2029]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def html_text(value: Any) -> str:
    """Escape a value for HTML element content (``<``, ``>``, ``&``, both quotes).

    Parameters
    ----------
    value : object
        Any value; ``None`` and float NaN give an empty string, others go through ``str``.

    Returns
    -------
    str

    Examples
    --------
    >>> html_text('<img src=x onerror=alert(1)>')
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    return html.escape(_text(value), quote=True)


def html_attr(value: Any) -> str:
    """Escape a value for a quoted HTML attribute (``title="..."``; always quote it).

    The same escaping as :func:`html_text`: both quote characters become entities, so the value
    cannot end the attribute whichever quote the page uses.

    Parameters
    ----------
    value : object
        Any value; ``None`` and float NaN give an empty string, others go through ``str``.

    Returns
    -------
    str
    """
    return html.escape(_text(value), quote=True)


def safe_url(url: Any) -> str:
    """A URL a page may link to or script may assign, not yet escaped for an attribute.

    Relative paths are percent-encoded (``report/a b.html`` -> ``report/a%20b.html``); absolute
    ``http``, ``https`` and ``file`` URLs are kept; every other scheme (``javascript:``,
    ``data:``, ...) raises ``ValueError``.  A relative path whose first segment holds a colon
    (a folder named ``javascript:x``) reads as a scheme: write it as ``./javascript:x`` (see
    :func:`relative_url`).

    Parameters
    ----------
    url : object
        A URL or relative path (``None`` and NaN read as an empty path); surrounding
        whitespace is stripped and backslashes in a relative path become ``/``.

    Returns
    -------
    str
        The absolute URL unchanged, or the relative path percent-encoded (``/``, ``-``, ``.``,
        ``_``, ``~`` and ``#`` kept).  A one-letter scheme (``C:``) counts as a path.

    Raises
    ------
    ValueError
        An absolute URL whose scheme is not ``http``, ``https`` or ``file``.
    """
    text = _text(url).strip()
    parts = urlsplit(text)
    if parts.scheme and len(parts.scheme) > 1:  # "C:" style drive letters are paths
        if parts.scheme.lower() not in ("http", "https", "file"):
            raise ValueError(
                f"refusing a link with the scheme {quote_value(parts.scheme)}: {quote_value(text)}"
            )
        return text
    return quote(text.replace("\\", "/"), safe="/-._~#")


def relative_url(path: str) -> str:
    """A relative file path as a relative URL that cannot read as a scheme (``./`` prefixed).

    ``javascript:alert(1)/report`` (a folder of that name) becomes
    ``./javascript:alert(1)/report``; paths starting with ``.`` or ``/`` are unchanged.
    Separators become ``/``.

    Parameters
    ----------
    path : str
        A relative file path (any value is turned into ``str``).

    Returns
    -------
    str
        Not percent-encoded: pass it on to :func:`safe_url` or :func:`href`.
    """
    text = str(path).replace("\\", "/")
    if text.startswith((".", "/")):
        return text
    return "./" + text


def href(url: Any) -> str:
    """A URL made safe for an ``href`` attribute (:func:`safe_url`, escaped for an attribute).

    Parameters
    ----------
    url : object
        As for :func:`safe_url`.

    Returns
    -------
    str
        The URL from :func:`safe_url`, escaped by :func:`html_attr`; put it between quotes.

    Raises
    ------
    ValueError
        For any scheme but ``http``, ``https`` and ``file``.
    """
    return html_attr(safe_url(url))


def _script_safe(text: str) -> str:
    return _SCRIPT_UNSAFE_RE.sub(lambda m: _SCRIPT_UNSAFE[m.group(0)], text)


def js_string(value: Any) -> str:
    """A JavaScript string literal (with its double quotes) safe inside a ``<script>`` element.

    JSON string syntax is a subset of JavaScript's; on top of it ``<``, ``>``, ``&`` and the
    line terminators U+2028/U+2029 are written as ``\\uXXXX`` escapes, so ``</script>`` in the
    data cannot close the element.  Backticks and ``${`` are inert inside a double-quoted
    string.

    Parameters
    ----------
    value : object
        Any value; ``None`` and float NaN give ``""``, others go through ``str``.

    Returns
    -------
    str
        The literal, double quotes included; non-ASCII characters are kept as they are.

    Examples
    --------
    >>> js_string('</script><script>alert(1)</script>')
    '"\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"'
    """
    return _script_safe(json.dumps(_text(value), ensure_ascii=False))


def script_json(obj: Any) -> str:
    """Serialize ``obj`` as compact JSON that is safe as the text of a ``<script>`` element.

    Usable both as a JavaScript expression (``var data = ...;``) and as the content of
    ``<script type="application/json">``.  NaN and infinities are refused (they are not JSON).

    Parameters
    ----------
    obj : object
        Anything :func:`json.dumps` serializes (dicts, lists, strings, numbers, ...).

    Returns
    -------
    str
        Compact JSON (no spaces after separators, non-ASCII kept) with ``<``, ``>``, ``&``
        and U+2028/U+2029 written as ``\\uXXXX`` escapes.

    Raises
    ------
    ValueError
        ``obj`` holds NaN or an infinity.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _script_safe(text)


def js_template(value: Any) -> str:
    """Escape a value for the inside of a JavaScript template literal (between backticks).

    Backslashes, backticks and ``$`` are escaped, so neither the end of the literal nor a
    ``${...}`` substitution can be formed; ``<``, ``>``, ``&`` and U+2028/U+2029 are written as
    ``\\uXXXX`` escapes for the enclosing ``<script>`` element.  The maps of this package put no
    data into template literals; this exists for code that must (and is tested like the rest).

    Parameters
    ----------
    value : object
        Any value; ``None`` and float NaN give an empty string, others go through ``str``.

    Returns
    -------
    str
        The escaped text, without backticks around it; a carriage return is written as
        ``\\r``.
    """
    text = _text(value).replace("\\", "\\\\").replace("`", "\\`").replace("$", "\\$")
    # A raw CR (or CRLF) inside a template literal is normalised to LF; keep it exact.
    return _script_safe(text.replace("\r", "\\r"))
