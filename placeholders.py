"""Placeholders of campaign texts: one syntax, ``{{ object.name }}``, in subjects and in bodies.

Odoo replaces ``{{ ... }}`` in inline templates (email and letter subjects, SMS texts, page titles)
but not in QWeb bodies (emails, letters, personal pages), where only ``<t t-out="..."/>`` is
replaced: a user who writes ``{{ object.campaign_landing_url }}`` in an email, as in its subject,
would send it as text. :func:`to_qweb` turns the ``{{ ... }}`` placeholders of a QWeb body into
QWeb before it is rendered: ``<t t-out="..."/>`` in text, ``t-attf-<name>`` in attributes (a link
to ``{{ object.campaign_landing_url }}``).

Only the expressions Odoo lets every user write (``mail_allowed_qweb_expressions`` of the model:
the contact's name, the personal page address...) are converted: bodies are rendered by the
scheduled job with superuser rights, so converting code would let anyone run it.
:func:`unreplaced` lists the others, so that the action says what will not be replaced before it
runs. No model here: these are functions on html text.
"""

import re
from urllib.parse import unquote

import lxml.html
from markupsafe import Markup

# {{ expression }} or {{ expression ||| default }}, as Odoo's inline templates write them.
PLACEHOLDER = re.compile(r"\{\{\s*(?P<expr>.+?)\s*(?:\|\|\|\s*(?P<default>.*?)\s*)?\}\}", re.DOTALL)
# A link holding only a placeholder, with the scheme an editor may have put in front of it.
LINK_PLACEHOLDER = re.compile(r"^\s*(?:https?://)?(?P<placeholder>\{\{.+?\}\})\s*$", re.DOTALL)


def _has_placeholder(text):
    return bool(text) and ("{{" in text or "%7b%7b" in text.lower())


def _attribute_text(value):
    """The attribute's text as the user wrote it (editors may encode the braces of a link)."""
    return unquote(value) if "%7b%7b" in value.lower() else value


def _split(text, is_allowed):
    """[text, (expression, default), text, ...] of a text holding placeholders; those whose
    expression is not allowed stay in the text as they are."""
    parts, current, position = [], "", 0
    for match in PLACEHOLDER.finditer(text):
        current += text[position : match.start()]
        position = match.end()
        expression = match.group("expr").strip()
        if not is_allowed(expression):
            current += match.group(0)
            continue
        parts += [current, (expression, (match.group("default") or "").strip())]
        current = ""
    parts.append(current + text[position:])
    return parts


def _placeholder_node(expression, default, tail):
    node = lxml.html.Element("t")
    node.set("t-out", expression)
    node.text = default or None
    node.tail = tail or None
    return node


def _convert_text(node, is_allowed):
    """Replace the placeholders of the node's text by ``<t t-out>`` children placed first."""
    parts = _split(node.text, is_allowed)
    node.text = parts[0] or None
    for index, (expression, default) in enumerate(parts[1::2]):
        node.insert(index, _placeholder_node(expression, default, parts[2 * index + 2]))


def _convert_tail(node, is_allowed):
    """Replace the placeholders of the text after ``node`` by ``<t t-out>`` siblings after it."""
    parts = _split(node.tail, is_allowed)
    node.tail = parts[0] or None
    parent, position = node.getparent(), node.getparent().index(node)
    for index, (expression, default) in enumerate(parts[1::2]):
        parent.insert(position + 1 + index, _placeholder_node(expression, default, parts[2 * index + 2]))


def _convert_attributes(node, is_allowed):
    for name, value in list(node.attrib.items()):
        text = _attribute_text(value)
        if name.startswith("t-") or "{{" not in text:
            continue
        expressions = [match.group("expr").strip() for match in PLACEHOLDER.finditer(text)]
        if not expressions or not all(is_allowed(expression) for expression in expressions):
            continue
        link = LINK_PLACEHOLDER.match(text) if name in ("href", "src") else None
        text = link.group("placeholder") if link else text
        # QWeb's attribute formats know {{ expression }} only, not the default of inline templates
        text = PLACEHOLDER.sub(lambda match: "{{ " + match.group("expr").strip() + " }}", text)
        del node.attrib[name]
        node.set(f"t-attf-{name}", text)


def to_qweb(html, is_allowed):
    """``html`` with its ``{{ ... }}`` placeholders written as QWeb, for those whose expression
    ``is_allowed(expression)`` accepts; the others are left as they are.

    :param html: a QWeb body (str or Markup); returned unchanged when it holds no placeholder
    :param is_allowed: callable(str) -> bool
    :return: the same type as ``html``
    """
    if not _has_placeholder(html and str(html)):
        return html
    root = lxml.html.fragment_fromstring(str(html), create_parent="div")
    for node in list(root.iter()):
        if not isinstance(node.tag, str):  # comments and processing instructions
            continue
        _convert_attributes(node, is_allowed)
        if node.text and "{{" in node.text and node.tag not in ("style", "script"):
            _convert_text(node, is_allowed)
        if node is not root and node.tail and "{{" in node.tail:
            _convert_tail(node, is_allowed)
    converted = (root.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in root)
    # serialised by lxml from the parsed body: the same html, with QWeb elements added
    return Markup(converted) if isinstance(html, Markup) else converted


def unreplaced(html, is_allowed):
    """The placeholders of ``html`` (a QWeb body) that :func:`to_qweb` leaves as they are, as
    written, in their order of appearance and once each."""
    if not _has_placeholder(html and str(html)):
        return []
    root = lxml.html.fragment_fromstring(str(html), create_parent="div")
    texts = []
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        texts += [_attribute_text(value) for name, value in node.attrib.items() if not name.startswith("t-")]
        texts += [node.text or "", node.tail or ""]
    found = []
    for text in texts:
        for match in PLACEHOLDER.finditer(text):
            placeholder = match.group(0)
            if not is_allowed(match.group("expr").strip()) and placeholder not in found:
                found.append(placeholder)
    return found
