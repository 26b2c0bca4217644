import base64
from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestOrder(CampaignCase):
    """The order wizard (seed 000): steps in order, each saved on the campaign, resumed where it
    stopped, and a launch that lists whatever is missing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.picked = cls._partners(5, prefix="order picked")
        cls.order_tag = cls.env["res.partner.category"].create({"name": "Order test tag"})
        # two of the picked contacts are also tagged (found twice), plus two tagged only
        cls.tagged_only = cls._partners(2, prefix="order tagged")
        (cls.picked[3:] | cls.tagged_only).write({"category_id": [(4, cls.order_tag.id)]})
        cls.env["mail.blacklist"]._add(cls.tagged_only[1].email)
        # importing a file creates the missing contacts, which needs Odoo's "Contact Creation" right
        cls.user_marketing.group_ids |= cls.env.ref("base.group_partner_manager")
        cls.env = cls.env(user=cls.user_marketing)

    def _wizard(self, **values):
        """A new order from the menu, past the summary (Start)."""
        form = Form(self.env["campaign.campaign.order"])
        self.assertEqual(form.step, "summary")
        wizard = form.save()
        wizard.action_next()
        self.assertEqual(wizard.step, "name")
        if values:
            with Form(wizard) as form:
                for key, value in values.items():
                    setattr(form, key, value)
        return wizard

    def _to_media(self, name="SpringSale"):
        wizard = self._wizard(name=name, date_start=date(2026, 3, 2))
        wizard.action_next()
        with Form(wizard) as form:
            form.target_source = "manual"
            for partner in self.picked:
                form.partner_ids.add(partner)
        wizard.action_next()
        self.assertEqual(wizard.step, "media")
        return wizard

    def _add_email(self, wizard, template=True, name="Offer"):
        with Form(wizard) as form:
            form.new_channel = "email"
            form.new_action_name = name
            if template:
                form.new_mail_template_id = self.mail_template
        wizard.action_add_action()
        return wizard.campaign_id.action_ids.filtered(lambda a: a.name == name)

    # ------------------------------------------------------------------
    @freeze_time("2026-03-02 08:00:00")
    def test_walk_every_step_to_launch(self):
        # 1-2. summary, then create and name: the campaign exists (draft) from this step on
        wizard = self._wizard(
            name="SpringSale", scope="personal", campaign_type="fidelity", date_start=date(2026, 3, 2)
        )
        self.assertFalse(wizard.campaign_id)
        wizard.action_next()
        campaign = wizard.campaign_id
        self.assertEqual(
            (campaign.name, campaign.scope, campaign.campaign_type, campaign.state, campaign.user_id),
            ("SpringSale", "personal", "fidelity", "draft", self.user_marketing),
        )
        self.assertEqual((wizard.step, campaign.order_step), ("contacts", "contacts"))

        # 3. contacts: hand pick, with the Calculate figures
        with Form(wizard) as form:
            form.target_source = "manual"
            form.target_name = "Fair visitors"
            for partner in self.picked:
                form.partner_ids.add(partner)
            self.assertEqual(form.input_count, 5, "live count of what is about to be added")
        wizard.action_add_targets()
        self.assertEqual(campaign.target_ids.mapped("name"), ["Fair visitors"])
        self.assertEqual(campaign.target_ids.partner_ids, self.picked)
        self.assertFalse(wizard.partner_ids, "the inputs are cleared once added")
        self.assertEqual((wizard.total, wizard.contacts, wizard.final), (5, 5, 5))
        # a filter: live count while editing, added as a target by Next
        with Form(wizard) as form:
            form.target_source = "filter"
            form.partner_domain = str([("category_id", "in", self.order_tag.ids)])
            self.assertEqual(form.input_count, 4)
        # and a file
        with Form(wizard) as form:
            form.target_source = "file"
            form.import_file = base64.b64encode(
                b"name,email\nFile One,order.file.1@example.com\nFile Two,order.file.2@example.com\n"
            )
        self.assertEqual(wizard.partner_domain, str([("category_id", "in", self.order_tag.ids)]))
        wizard.action_next()
        self.assertEqual(wizard.step, "media")
        self.assertEqual(campaign.order_step, "media")
        self.assertEqual(
            campaign.target_ids.mapped("name"), ["Fair visitors", "Imported file"], "the pending choice (file) is added"
        )
        self.assertEqual(len(campaign.target_ids[1].partner_ids), 2)
        # the filter was replaced by the file before Next: add it back from the contacts step
        wizard.action_back()
        self.assertEqual((wizard.step, campaign.order_step), ("contacts", "media"), "going back keeps the step reached")
        with Form(wizard) as form:
            form.target_source = "filter"
            form.partner_domain = str([("category_id", "in", self.order_tag.ids)])
        wizard.action_next()
        self.assertEqual(sorted(campaign.target_ids.mapped("source")), ["file", "filter", "manual"])
        # 5 picked + 4 tagged + 2 from the file = 11 rows, 2 contacts twice, 1 blacklisted
        self.assertEqual(
            (
                wizard.total,
                wizard.duplicates,
                wizard.contacts,
                wizard.excluded_total,
                wizard.final,
            ),
            (11, 2, 9, 1, 8),
        )

        # 4. media: quick add of an email action with a template
        action = self._add_email(wizard)
        self.assertEqual((action.channel, action.mail_template_id), ("email", self.mail_template))
        self.assertEqual(wizard.line_ids.action_id, action)
        self.assertTrue(wizard.line_ids.is_complete)
        wizard.action_next()
        self.assertEqual((wizard.step, campaign.order_step), ("schedule", "schedule"))

        # 5. schedule: at a date, saved on the action
        with Form(wizard) as form:
            form.schedule_mode = "at"
            form.schedule_date = datetime(2026, 3, 3, 9, 0)
        wizard.action_next()
        self.assertEqual((action.schedule_type, action.date_start), ("at", datetime(2026, 3, 3, 9, 0)))
        self.assertEqual((wizard.step, campaign.order_step), ("launch", "launch"))

        # 6. launch: the Calculate figures of each action, nothing missing
        self.assertFalse(wizard.missing)
        line = wizard.launch_line_ids
        self.assertEqual(line.action_id, action)
        self.assertEqual((line.total, line.duplicates, line.excluded, line.final), (11, 2, 1, 8))
        result = wizard.action_launch()
        shown = result["params"]["action"]
        self.assertEqual((shown["res_model"], shown["res_id"]), ("campaign.campaign", campaign.id))
        self.assertEqual(campaign.state, "active")
        self.assertEqual(action.state, "scheduled")
        self.assertEqual(campaign.order_step, "done")
        with self.assertRaises(UserError):
            campaign.action_order()

    def test_schedule_per_action(self):
        wizard = self._to_media()
        first = self._add_email(wizard, name="First")
        second = self._add_email(wizard, name="Second")
        wizard.action_next()
        with Form(wizard) as form:
            form.schedule_mode = "actions"
            with form.schedule_line_ids.edit(1) as line:
                self.assertEqual(line.name, "Second")
                line.schedule_type = "at"
                line.date_start = datetime(2026, 4, 1, 10, 0)
        wizard.action_next()
        self.assertEqual((first.schedule_type, first.date_start), ("now", False))
        self.assertEqual((second.schedule_type, second.date_start), ("at", datetime(2026, 4, 1, 10, 0)))

    def test_remove_a_target_from_the_order(self):
        wizard = self._to_media()
        wizard.action_back()
        target = wizard.target_ids
        self.assertEqual(wizard.final, 5)
        result = target.with_context(campaign_order_id=wizard.id).action_remove_from_order()
        self.assertIs(result, True, "the web client reloads the order where it is (its breadcrumb entry)")
        self.assertFalse(target.exists())
        self.assertEqual((wizard.total, wizard.final), (0, 0), "the figures follow")

    def test_steps_cannot_be_skipped(self):
        wizard = self._wizard()
        # only the current step's fields can be filled
        with Form(wizard) as form, self.assertRaises(AssertionError):
            form.target_source = "filter"
        # Next refuses an incomplete step, with the list of what is missing
        with self.assertRaises(UserError) as ctx:
            wizard.action_next()
        self.assertIn("a name for the campaign", str(ctx.exception))
        self.assertEqual(wizard.step, "name")
        # the campaign's own rules surface as they are
        with Form(wizard) as form:
            form.name = "Spring Sale"
        with self.assertRaises(ValidationError) as ctx:
            wizard.action_next()
        self.assertIn("without spaces", str(ctx.exception))
        self._campaign("TakenName")
        with Form(wizard) as form:
            form.name = "TakenName"
        with self.assertRaises(UserError) as ctx:
            wizard.action_next()
        self.assertIn("already exists", str(ctx.exception))
        with Form(wizard) as form:
            form.name = "NoContacts"
        wizard.action_next()
        campaign = wizard.campaign_id
        # no contacts: the order stays at the contacts step
        with self.assertRaises(UserError) as ctx:
            wizard.action_next()
        self.assertIn("at least one target", str(ctx.exception))
        self.assertEqual((wizard.step, campaign.order_step), ("contacts", "contacts"))
        with self.assertRaises(UserError):
            wizard.action_add_targets()
        # a target that finds nobody is refused too
        with Form(wizard) as form:
            form.target_source = "filter"
            form.partner_domain = str([("email", "=", "nobody@nowhere.invalid")])
        with self.assertRaises(UserError) as ctx:
            wizard.action_next()
        self.assertIn("the targets find none", str(ctx.exception))
        # jumping ahead is refused, whoever asks
        with self.assertRaises(ValidationError) as ctx:
            self.env["campaign.campaign.order"].create({"campaign_id": campaign.id, "step": "schedule"})
        self.assertIn("complete “Contacts” first", str(ctx.exception))
        with self.assertRaises(UserError):
            wizard.action_launch()

    def test_media_step_lists_incomplete_actions(self):
        wizard = self._to_media()
        with self.assertRaises(UserError) as ctx:
            wizard.action_next()
        self.assertIn("at least one action", str(ctx.exception))
        draft = self._add_email(wizard, template=False, name="Draft mail")
        line = wizard.line_ids
        self.assertFalse(line.is_complete)
        self.assertIn("write it with “Edit Email”", line.missing)
        with self.assertRaises(UserError) as ctx:
            wizard.action_next()
        self.assertIn("Draft mail: an email: write it with", str(ctx.exception))
        self.assertEqual(wizard.step, "media")
        # the content is edited on the action (its form, or Edit Email), then Next goes on
        edit = line.action_edit_email()
        self.assertEqual((edit["res_model"], edit["res_id"]), ("mailing.mailing", draft.mailing_id.id))
        draft.mailing_id.write({"subject": "Spring", "body_arch": "<p>Hello</p>", "body_html": "<p>Hello</p>"})
        self.assertEqual(line.action_open()["res_id"], draft.id)
        wizard.action_next()
        self.assertEqual(wizard.step, "schedule")

    def test_resume_at_the_step_reached(self):
        wizard = self._to_media()
        campaign = wizard.campaign_id
        self._add_email(wizard)
        # the user leaves (e.g. to edit the email) and comes back from the campaign or the action
        result = campaign.action_order()
        resumed = self.env["campaign.campaign.order"].browse(result["res_id"])
        self.assertNotEqual(resumed, wizard)
        self.assertEqual((resumed.step, resumed.campaign_id, resumed.name), ("media", campaign, "SpringSale"))
        self.assertEqual(resumed.line_ids.action_id.name, "Offer")
        resumed.action_back()
        resumed.action_back()
        self.assertEqual(resumed.step, "name")
        resumed.action_next()
        self.assertEqual(resumed.step, "contacts")
        resumed.action_next()
        resumed.action_next()
        self.assertEqual(resumed.step, "schedule")
        again = self.env["campaign.campaign.order"].browse(campaign.action_ids.action_resume_order()["res_id"])
        self.assertEqual(again.step, "schedule")
        # a campaign made without the order resumes at its contacts
        other = self._campaign("MadeByHand")
        self.assertEqual(other.order_step, "contacts")
        opened = self.env["campaign.campaign.order"].browse(other.action_order()["res_id"])
        self.assertEqual((opened.step, opened.name), ("contacts", "MadeByHand"))
        # launched with the Launch button instead, its order is over too
        self._manual_target(other, self.picked)
        self._email_action(other)
        other.date_start = date(2026, 3, 2)
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=other.id)).save().action_launch()
        self.assertEqual(other.order_step, "done")
        with self.assertRaises(UserError):
            other.action_order()

    @freeze_time("2026-03-02 08:00:00")
    def test_launch_lists_what_is_missing(self):
        wizard = self._to_media()
        campaign = wizard.campaign_id
        action = self._add_email(wizard)
        wizard.action_next()
        wizard.action_next()
        self.assertEqual(wizard.step, "launch")
        self.assertFalse(wizard.missing)
        # things undone behind the order's back are listed, each once
        action.mail_template_id = False
        campaign.target_ids.unlink()
        wizard.invalidate_recordset(["missing"])
        self.assertIn("at least one target", wizard.missing)
        with self.assertRaises(UserError) as ctx:
            wizard.action_launch()
        message = str(ctx.exception)
        self.assertIn("cannot be launched yet", message)
        self.assertEqual(message.count("at least one target"), 1)
        self.assertIn("Offer: an email: write it with", message)
        self.assertEqual(message.count("Offer: an email"), 1)
        self.assertEqual((campaign.state, campaign.order_step), ("draft", "launch"))
        self.assertEqual(action.state, "draft")
