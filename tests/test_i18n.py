from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader


@tagged("post_install", "-at_install")
class TestFrenchComplete(TransactionCase):
    """Every term the addon shows (code, views, fields, selections, data) has a French translation."""

    def test_every_term_has_french(self):
        po_path = Path(__file__).resolve().parent.parent / "i18n" / "fr.po"
        translated = {
            entry.msgid for entry in polib.pofile(str(po_path)) if entry.msgstr and "fuzzy" not in entry.flags
        }
        reader = TranslationModuleReader(self.env.cr, modules=["campaign_manager"])
        sources = {source for _module, _type, _name, _res_id, source, _value, _comments in reader}
        self.assertGreater(len(sources), 250, "the reader finds the addon's terms")
        missing = sorted(sources - translated)
        self.assertFalse(
            missing, "Terms without French in i18n/fr.po (run tools/i18n_export.sh):\n" + "\n".join(missing)
        )

    def test_every_term_in_the_template(self):
        """Odoo reads fr.po merged with i18n/campaign_manager.pot and drops the entries the .pot
        lacks: a term translated in fr.po but missing from the .pot shows in English."""
        pot_path = Path(__file__).resolve().parent.parent / "i18n" / "campaign_manager.pot"
        in_template = {entry.msgid for entry in polib.pofile(str(pot_path))}
        reader = TranslationModuleReader(self.env.cr, modules=["campaign_manager"])
        sources = {source for _module, _type, _name, _res_id, source, _value, _comments in reader}
        missing = sorted(sources - in_template)
        self.assertFalse(
            missing, "Terms missing from i18n/campaign_manager.pot (run tools/i18n_export.sh):\n" + "\n".join(missing)
        )

    def test_french_loaded_in_the_ui(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        fields = self.env["campaign.campaign"].with_context(lang="fr_FR").fields_get(["budget", "expected_revenue"])
        self.assertEqual(fields["expected_revenue"]["string"], "CA prévisionnel")
        states = dict(
            self.env["campaign.campaign"]
            .with_context(lang="fr_FR")
            ._fields["state"]
            ._description_selection(self.env(context={"lang": "fr_FR"}))
        )
        self.assertEqual(states["ready"], "Prête")
