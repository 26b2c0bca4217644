import base64

from odoo.tests import tagged

from .common import CampaignHttpCase, RpcError

USER_ERRORS = ("odoo.exceptions.UserError", "odoo.exceptions.ValidationError")


@tagged("post_install", "-at_install")
class TestBadInputOverRpc(CampaignHttpCase):
    """What a campaign user may send wrong over JSON-RPC gets a clear error in their language,
    never a raw Python or database error, and nothing is written: an unknown choice, an empty or
    unreadable contact file, a campaign name too long, a webhook on another port than https'."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        cls.campaign = cls.env["campaign.campaign"].with_user(cls.user_marketing).create({"name": "BadInput"})

    def _refused(self, model, method, french=None, **params):
        """The call is refused with a user error (its English message is returned); in French too
        when ``french`` is given (a part of its text)."""
        with self.assertRaises(RpcError) as caught:
            self.json2(self.user_marketing, model, method, **params)
        self.assertIn(caught.exception.name, USER_ERRORS, caught.exception.message)
        message = caught.exception.message
        if french:
            with self.assertRaises(RpcError) as caught:
                self.json2(self.user_marketing, model, method, context={"lang": "fr_FR"}, **params)
            self.assertIn(french, caught.exception.message)
        return message

    def _count(self, model):
        return self.env[model].search_count([])

    def test_unknown_choice(self):
        before = self._count("campaign.action")
        values = {"campaign_id": self.campaign.id, "name": "Fax", "channel": "fax"}
        message = self._refused(
            "campaign.action", "create", french="n'est pas une valeur possible de", vals_list=[values]
        )
        self.assertIn("fax", message)
        action = self.env["campaign.action"].create({"campaign_id": self.campaign.id, "name": "Mail"})
        self._refused("campaign.action", "write", ids=action.ids, vals={"schedule_type": "tomorrow"})
        self._refused("campaign.campaign", "write", ids=self.campaign.ids, vals={"scope": "everyone"})
        self.assertEqual(self._count("campaign.action"), before + 1)
        self.assertEqual((action.schedule_type, self.campaign.scope), ("now", "company"))

    def test_empty_and_unreadable_files(self):
        before = self._count("campaign.target")
        for raw, expected in (
            (b"", "empty"),
            (b"\n\n", "empty"),
            (b"\xef\xbb\xbf", "empty"),
            (b"\x00\x01", "not a CSV text file"),
        ):
            with self.subTest(raw=raw):
                values = {
                    "campaign_id": self.campaign.id,
                    "name": "Imported",
                    "source": "file",
                    "import_file": base64.b64encode(raw).decode(),
                    "import_filename": "contacts.csv",
                }
                self.assertIn(expected, self._refused("campaign.target", "create", vals_list=[values]))
        self._refused(
            "campaign.target",
            "create",
            french="Le fichier est vide",
            vals_list=[{"campaign_id": self.campaign.id, "name": "Imported", "source": "file", "import_file": ""}],
        )
        message = self._refused(
            "campaign.target",
            "create",
            vals_list=[
                {"campaign_id": self.campaign.id, "name": "Imported", "source": "file", "import_file": "not base64!"}
            ],
        )
        self.assertIn("CSV", message)
        self.assertEqual(self._count("campaign.target"), before)

    def test_campaign_name_too_long(self):
        message = self._refused(
            "campaign.campaign", "create", french="est trop long", vals_list=[{"name": "Spring" * 11}]
        )
        self.assertIn("at most 64 characters", message)
        self.assertTrue(self.json2(self.user_marketing, "campaign.campaign", "create", vals_list=[{"name": "S" * 64}]))
        self._refused("campaign.campaign", "write", ids=self.campaign.ids, vals={"name": "x" * 5000})
        self.assertEqual(self.campaign.name, "BadInput")

    def test_webhook_port(self):
        values = {
            "campaign_id": self.campaign.id,
            "name": "Hook",
            "channel": "webhook",
            "webhook_url": "https://93.184.215.14:8080/hook",
        }
        message = self._refused("campaign.action", "create", french="port 8080", vals_list=[values])
        self.assertIn("only the https port 443", message)
        self.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_ports", "True")
        self.assertTrue(self.json2(self.user_marketing, "campaign.action", "create", vals_list=[values]))
