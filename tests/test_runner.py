import sys
from pathlib import Path

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestEveryModuleImported(TransactionCase):
    """Odoo's own runner (``odoo-bin --test-tags /campaign_manager``) only runs the test modules that
    ``tests/__init__.py`` imports, pytest-odoo collects every ``tests/test_*.py``: both must see the
    same set."""

    def test_every_test_module_is_imported(self):
        package = sys.modules[__package__]
        files = {path.stem for path in Path(package.__file__).parent.glob("test_*.py")}
        imported = {name for name in files if hasattr(package, name)}
        self.assertGreater(len(files), 30)
        self.assertEqual(files - imported, set(), "add these to tests/__init__.py")
