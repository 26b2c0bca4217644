import re
from pathlib import Path

from odoo.tests import TransactionCase, tagged

DOCS = Path(__file__).resolve().parent.parent / "docs"
# Markdown images: ![alt](path) and ![alt](path "title")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@tagged("post_install", "-at_install")
class TestGuide(TransactionCase):
    """The user guides show only pictures that exist (taken again by tools/screenshots.sh)."""

    def _images(self, guide):
        return IMAGE.findall((DOCS / guide).read_text(encoding="utf-8"))

    def test_every_picture_of_the_guides_exists(self):
        for guide, folder in (("guide.md", "img/en/"), ("guide.fr.md", "img/fr/")):
            with self.subTest(guide=guide):
                images = self._images(guide)
                self.assertGreaterEqual(len(images), 12, f"{guide} shows its screenshots")
                missing = [image for image in images if not (DOCS / image).is_file()]
                self.assertFalse(missing, f"{guide} shows pictures that do not exist: {missing}")
                # Each guide shows the screens in its own language.
                other = [image for image in images if not image.startswith(folder)]
                self.assertFalse(other, f"{guide} shows pictures outside {folder}: {other}")

    def test_both_guides_show_the_same_screens(self):
        english = {Path(image).name for image in self._images("guide.md")}
        french = {Path(image).name for image in self._images("guide.fr.md")}
        self.assertEqual(english, french)

    def test_pictures_match_a_missing_file(self):
        """The check itself: a reference to a file that does not exist is caught."""
        text = 'See ![the list](img/en/campaigns.png) and ![gone](img/en/no-such-screen.png "title").'
        images = IMAGE.findall(text)
        self.assertEqual(images, ["img/en/campaigns.png", "img/en/no-such-screen.png"])
        self.assertEqual([image for image in images if not (DOCS / image).is_file()], ["img/en/no-such-screen.png"])
