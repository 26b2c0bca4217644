import ast
import re
import runpy
from pathlib import Path

from odoo.tests import TransactionCase, tagged

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "static" / "description" / "index.html"
# Markdown links [text](target) that are not images; the target without its title
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)


def _anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@tagged("post_install", "-at_install")
class TestReadme(TransactionCase):
    """The module's description in Apps (static/description/index.html) is the one tools/gen_readme.py
    writes from readme/ and the manifest; the README says the commands CI runs; the documents link
    only to what exists."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.generator = runpy.run_path(str(ROOT / "tools" / "gen_readme.py"))
        cls.manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text(encoding="utf-8"))

    def test_index_html_is_generated_from_the_fragments(self):
        expected = self.generator["render"](self.manifest, self.generator["fragments"](ROOT))
        self.assertTrue(INDEX.is_file(), "static/description/index.html is missing: run python3 tools/gen_readme.py")
        self.assertEqual(
            INDEX.read_text(encoding="utf-8"),
            expected,
            "static/description/index.html is not what readme/ gives: run python3 tools/gen_readme.py",
        )

    def test_fragments_of_oca(self):
        fragments = self.generator["fragments"](ROOT)
        for name in ("DESCRIPTION.md", "CONFIGURE.md", "USAGE.md", "CONTRIBUTORS.md"):
            with self.subTest(fragment=name):
                self.assertTrue(fragments.get(name, "").strip(), f"readme/{name} is missing or empty")

    def test_a_changed_fragment_changes_the_page(self):
        """The check itself: the page follows every fragment and the manifest, and refuses Markdown it
        would show unconverted."""
        fragments = self.generator["fragments"](ROOT)
        render = self.generator["render"]
        page = render(self.manifest, fragments)
        for name in fragments:
            with self.subTest(fragment=name):
                changed = dict(fragments, **{name: fragments[name] + "\nA sentence added <here> with `code`.\n"})
                new_page = render(self.manifest, changed)
                self.assertNotEqual(new_page, page)
                self.assertIn("A sentence added &lt;here&gt; with <code>code</code>.", new_page)
        self.assertNotEqual(render(dict(self.manifest, name="Another name"), fragments), page)
        for bad in ("| a | table |", "![a picture](x.png)", "<b>raw html</b>"):
            with self.subTest(markdown=bad), self.assertRaises(ValueError):
                render(self.manifest, dict(fragments, **{"USAGE.md": bad}))

    def test_apps_shows_the_generated_description(self):
        """Odoo shows index.html when it exists, not the manifest's description: the manifest holds
        none (pylint-odoo's manifest-deprecated-keys), only the summary Apps shows above the page, on
        one line."""
        self.assertNotIn("description", self.manifest)
        self.assertTrue(self.manifest.get("summary"))
        self.assertNotIn("\n", self.manifest["summary"])
        module = self.env["ir.module.module"].search([("name", "=", "campaign_manager")])
        self.assertEqual(module.summary, self.manifest["summary"])
        shown = module.description_html
        self.assertIn(f'<h1 class="title">{self.manifest["name"]}</h1>', shown)
        self.assertIn("Configuration", shown)
        self.assertIn("Usage", shown)
        # the first sentence of DESCRIPTION.md, as Apps shows it (markup and <head> removed)
        first = self.generator["fragments"](ROOT)["DESCRIPTION.md"].split("\n\n")[0]
        words = re.sub(r"[*`]", "", first).split()[:8]
        text = re.sub(r"<[^>]+>", "", shown)
        self.assertIn(" ".join(words), " ".join(text.split()))

    def test_readme_gives_the_test_command_ci_runs(self):
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        commands = re.search(r"## Two commands\n(.*?)\n## ", readme, re.S)
        self.assertTrue(commands, "the README has its Two commands section")
        self.assertIn("make run", commands[1])
        self.assertIn("make test", commands[1])
        ci = [
            line.strip()
            for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        self.assertEqual(ci[-1], "make test", ".ci/run runs the README's test command")
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        self.assertRegex(makefile, r"\ntest:\n\t@?bash tools/test\.sh\n", "make test is tools/test.sh")
        self.assertIn("bash tools/test.sh", commands[1])
        self.assertLess(len(readme.splitlines()), 250, "the README keeps to what one needs first: the rest is in docs/")

    def test_documents_link_to_what_exists(self):
        documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        for document in documents:
            text = document.read_text(encoding="utf-8")
            for target in LINK.findall(text):
                if re.match(r"[a-z]+:", target):
                    continue  # an outside address
                with self.subTest(document=document.name, link=target):
                    path, _sep, anchor = target.partition("#")
                    linked = (document.parent / path).resolve() if path else document
                    self.assertTrue(linked.exists(), f"{document.name} links to {path}, which does not exist")
                    if anchor and linked.suffix == ".md":
                        anchors = {_anchor(h) for h in HEADING.findall(linked.read_text(encoding="utf-8"))}
                        self.assertIn(anchor, anchors, f"{document.name} links to a heading {linked.name} lacks")

    def test_anchor_of_a_heading(self):
        """The check itself: GitHub's anchors of headings with punctuation and accents."""
        self.assertEqual(_anchor("Emails: the delivery workers killed"), "emails-the-delivery-workers-killed")
        self.assertEqual(_anchor("Copies d'écran de ce guide"), "copies-décran-de-ce-guide")
        self.assertEqual(_anchor("How to add a channel"), "how-to-add-a-channel")
