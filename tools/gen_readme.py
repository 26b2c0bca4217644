"""Write static/description/index.html, the module's description in Odoo's *Apps*, from OCA's
``readme/`` fragments (DESCRIPTION.md, CONFIGURE.md, USAGE.md, CONTRIBUTORS.md) and the manifest,
as OCA's ``oca-gen-addon-readme`` does: the module's name, the description, a table of contents,
then Configuration, Usage and Credits. Apps shows the manifest's name and summary above it.

Usage: python3 tools/gen_readme.py           # writes static/description/index.html
       python3 tools/gen_readme.py --check   # exits 1 when index.html is not what the fragments give

Only Python's standard library (no network, no package to install). The fragments are Markdown of
a small, strict subset: headings (``#``), paragraphs, ``-`` and ``1.`` lists (nested by two spaces),
fenced code blocks, and inline ``code``, **bold**, *emphasis* and [links](url). Anything else (tables,
images, raw HTML) is refused with the line, so that the page never shows Markdown left unconverted.
``tests/test_readme.py`` fails when index.html is not what this script writes.
"""

import ast
import html
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = Path("static") / "description" / "index.html"
# (file, section title); DESCRIPTION opens the page without a title of its own, as in OCA's pages
SECTIONS = (
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
)
CONTRIBUTORS = "CONTRIBUTORS.md"

# The page alone in a browser (Odoo's Apps drops <head> and shows the body with its own styles)
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #212529; line-height: 1.5; margin: 0; }
.document { max-width: 60rem; margin: 0 auto; padding: 1.5rem 2rem; }
h1.title { margin-bottom: 0.25rem; }
h2 { border-bottom: 1px solid #dee2e6; padding-bottom: 0.25rem; margin-top: 2rem; }
code { background: #f1f3f5; padding: 0.1rem 0.3rem; border-radius: 0.2rem; font-size: 0.9em; }
pre { background: #f1f3f5; padding: 0.75rem 1rem; overflow-x: auto; }
li { margin: 0.2rem 0; }
"""

INLINE = re.compile(
    r"(?P<code>`[^`]+`)"
    r"|\[(?P<text>[^\]]+)\]\((?P<url>[^)\s]+)\)"
    r"|\*\*(?P<bold>[^*]+)\*\*"
    r"|\*(?P<em>[^*\s][^*]*)\*"
)
HEADING = re.compile(r"^(#{1,4}) +(.+)$")
BULLET = re.compile(r"^( *)(- |\d+\. )(.*)$")
UNSUPPORTED = re.compile(r"^\s*(\||!\[|<|>|={3,}|-{3,}\s*$)")


def inline(text):
    """Markdown inline markup of ``text`` as HTML, everything else escaped."""
    out, pos = [], 0
    for match in INLINE.finditer(text):
        out.append(html.escape(text[pos : match.start()], quote=False))
        if match["code"]:
            out.append(f"<code>{html.escape(match['code'][1:-1], quote=False)}</code>")
        elif match["url"]:
            out.append(f'<a href="{html.escape(match["url"])}">{inline(match["text"])}</a>')
        elif match["bold"]:
            out.append(f"<strong>{inline(match['bold'])}</strong>")
        else:
            out.append(f"<em>{inline(match['em'])}</em>")
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def slug(title):
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")


def markdown(text, source="fragment", level=3):
    """HTML of the Markdown ``text``; its headings start at ``<h{level}>``."""
    lines = text.splitlines()
    out = []
    paragraph = []
    lists = []  # stack of (indent, tag) of the open lists; their last <li> is open

    def flush_paragraph():
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def close_lists(indent=-1):
        while lists and lists[-1][0] > indent:
            out[-1] += "</li>"
            out.append(f"</{lists.pop()[1]}>")

    number = 0
    blank = False  # the previous line was empty
    while number < len(lines):
        line = lines[number].rstrip()
        number += 1
        if UNSUPPORTED.match(line):
            raise ValueError(f"{source}:{number}: not in the supported Markdown subset: {line!r}")
        if not line.strip():
            flush_paragraph()
            blank = True
            continue
        after_blank, blank = blank, False
        if line.startswith("```"):
            flush_paragraph()
            close_lists()
            code = []
            while number < len(lines) and not lines[number].startswith("```"):
                code.append(lines[number])
                number += 1
            if number == len(lines):
                raise ValueError(f"{source}: code block not closed")
            number += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(code), quote=False)}</code></pre>")
            continue
        heading = HEADING.match(line)
        if heading:
            flush_paragraph()
            close_lists()
            tag = f"h{min(len(heading[1]) + level - 1, 6)}"
            out.append(f"<{tag}>{inline(heading[2])}</{tag}>")
            continue
        bullet = BULLET.match(line)
        if bullet:
            flush_paragraph()
            indent, tag = len(bullet[1]), "ol" if bullet[2][0].isdigit() else "ul"
            if lists and lists[-1][0] > indent:
                close_lists(indent)
            if lists and lists[-1][0] == indent:
                if lists[-1][1] != tag:
                    raise ValueError(f"{source}:{number}: a list changes kind without a blank line between")
                out[-1] += "</li>"
            else:
                out.append(f"<{tag}>")
                lists.append((indent, tag))
            out.append(f"<li>{inline(bullet[3])}")
            continue
        if lists and not paragraph and not (after_blank and not line.startswith(" ")):
            # continuation of the open item (its next line, or indented under its text)
            out[-1] += " " + inline(line.strip())
            continue
        close_lists()
        paragraph.append(line.strip())
    flush_paragraph()
    close_lists()
    return "\n".join(out)


def manifest(root=ROOT):
    return ast.literal_eval((root / "__manifest__.py").read_text(encoding="utf-8"))


def fragments(root=ROOT):
    """The readme/ fragments that exist, by file name."""
    names = [name for name, _title in SECTIONS] + [CONTRIBUTORS]
    return {
        name: (root / "readme" / name).read_text(encoding="utf-8")
        for name in names
        if (root / "readme" / name).is_file()
    }


def render(manifest, fragments):
    """index.html of the module described by ``manifest`` (a dict) and ``fragments``."""
    name = manifest["name"]
    if "DESCRIPTION.md" not in fragments:
        raise ValueError("readme/DESCRIPTION.md is required")
    sections = [(title, markdown(fragments[file], file)) for file, title in SECTIONS[1:] if file in fragments]
    credits = [
        (
            "Authors",
            "<ul>\n" + "".join(f"<li>{html.escape(a.strip())}</li>\n" for a in manifest["author"].split(",")) + "</ul>",
        )
    ]
    if CONTRIBUTORS in fragments:
        credits.append(("Contributors", markdown(fragments[CONTRIBUTORS], CONTRIBUTORS)))
    toc = [f'<li><a href="#{slug(title)}">{html.escape(title)}</a></li>' for title, _body in sections]
    toc.append(
        '<li><a href="#credits">Credits</a><ul>'
        + "".join(f'<li><a href="#{slug(title)}">{html.escape(title)}</a></li>' for title, _body in credits)
        + "</ul></li>"
    )
    body = [
        f'<div class="document" id="{slug(name)}">',
        f'<h1 class="title">{html.escape(name)}</h1>',
        "<!-- Generated by tools/gen_readme.py from readme/*.md and __manifest__.py: edit those, then run it. -->",
        f"<p>{html.escape(manifest['license'])} · Odoo {html.escape(manifest['version'].split('.', 2)[0])}.0"
        f" · {html.escape(manifest['category'])}</p>",
        markdown(fragments["DESCRIPTION.md"], "DESCRIPTION.md"),
        "<p><strong>Table of contents</strong></p>",
        '<div class="contents">\n<ul>\n' + "\n".join(toc) + "\n</ul>\n</div>",
    ]
    for title, content in sections:
        body += [f'<div class="section" id="{slug(title)}">', f"<h2>{html.escape(title)}</h2>", content, "</div>"]
    body += ['<div class="section" id="credits">', "<h2>Credits</h2>"]
    for title, content in credits:
        body += [f'<div class="section" id="{slug(title)}">', f"<h3>{html.escape(title)}</h3>", content, "</div>"]
    body += ["</div>", "</div>"]
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1" />\n<title>{html.escape(name)}</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
    )
    return head + "\n".join(body) + "\n</body>\n</html>\n"


def main(argv):
    page = render(manifest(), fragments())
    path = ROOT / OUTPUT
    if "--check" in argv:
        if not path.is_file() or path.read_text(encoding="utf-8") != page:
            print(f"{OUTPUT} is not what readme/ gives: run python3 tools/gen_readme.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(page, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
