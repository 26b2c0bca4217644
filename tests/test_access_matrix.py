from contextlib import closing

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .access_common import PERMS, VISIBLE_CAMPAIGNS, AccessCase

# A field of each model, read and written back with its own value (the rights are checked all the
# same, and nothing moves).
FIELDS = {
    "campaign.campaign": "budget",
    "campaign.target": "name",
    "campaign.action": "name",
    "campaign.action.variant": "subject",
    "campaign.action.run": "log",
    "campaign.touchpoint": "note",
    "campaign.weblink": "sequence",
    "campaign.calendar.item": "text",
    "campaign.touchpoint.type": "sequence",
    "campaign.kpi.choice": "sequence",
    "campaign.todo": "name",
    "campaign.calendar.entry": "name",
    "campaign.analysis.report": "cost_planned",
    "mailing.mailing": "subject",
    "mailing.trace": "email",
}
# The figures accountants come for.
FIGURES = {
    "campaign.campaign": ["budget", "cost_planned", "cost_actual", "revenue", "roi", "expected_roi"],
    "campaign.action": ["fixed_cost", "unit_cost"],
    "campaign.analysis.report": ["cost_planned", "cost_actual", "revenue_invoiced", "revenue_ordered"],
}


@tagged("post_install", "-at_install")
class TestAccessMatrix(AccessCase):
    """Every kind of user against every model of the addon (and the campaign mailings and traces),
    through the ORM: what they find, read, write, create and delete is exactly what the access
    lists and the rules grant (VISIBLE_CAMPAIGNS and PERMS)."""

    def test_fixtures_cover_every_model_and_campaign(self):
        for model, records in self.fixtures.items():
            keys = {key[1] for _record, key in records if key[0] == "campaign"}
            with self.subTest(model=model):
                if model in ("campaign.touchpoint.type", "campaign.kpi.choice"):
                    self.assertFalse(keys)
                else:
                    self.assertEqual(keys, set(self.campaigns), "a record in every campaign")

    def test_orm_matrix(self):
        self.env.flush_all()
        failures = []
        for model in PERMS:
            for login in self.users:
                with self._case(failures, model=model, user=login):
                    self._check_model(model, login)
        self.assertFalse(failures, "\n".join(failures))

    def _check_model(self, model, login):
        user = self.users[login]
        perms = self._perms(model, login)
        records = self.fixtures[model]
        Model = self.env[model].with_user(user)
        all_ids = [record.id for record, _key in records]
        if "r" not in perms:
            with self.assertRaises(AccessError):
                Model.search([("id", "in", all_ids)])
        else:
            expected = {record.id for record, key in records if self._grants(login, key)}
            found = set(Model.search([("id", "in", all_ids)]).ids)
            self.assertEqual(found, expected, f"{login} finds exactly the {model} records granted")
        field = FIELDS[model]
        for record, key in records:
            granted = self._grants(login, key)
            mine = record.with_user(user)
            value = record[field]
            if "r" in perms and granted:
                self.assertEqual(mine.read([field])[0][field], record.read([field])[0][field])
            else:
                with self.assertRaises(AccessError):
                    mine.read([field])
            if "w" in perms and granted:
                mine.write({field: value})
            else:
                with self.assertRaises(AccessError):
                    mine.write({field: value})
            if "d" in perms and granted:
                self.assertTrue(mine.has_access("unlink"))
            else:
                with self.assertRaises(AccessError):
                    mine.unlink()
                self.assertTrue(record.exists())
        for key in dict.fromkeys(key for _record, key in records):
            values = self._create_values(model, key)
            if values is None:
                continue
            if "c" in perms and self._grants(login, key):
                with closing(self.env.cr.savepoint()):  # rolled back: the fixtures stay as they are
                    self.assertTrue(self.env[model].with_user(user).create(values))
            else:
                with self.assertRaises(AccessError):
                    self.env[model].with_user(user).create(values)

    _counter = 0

    def _create_values(self, model, key):
        """Values of a new record granted by ``key`` (None for the models nobody creates)."""
        TestAccessMatrix._counter += 1
        number = TestAccessMatrix._counter
        kind, value = key
        samples = self.samples.get(value) if kind == "campaign" else None
        campaign = samples and samples["campaign.campaign"]
        if model == "campaign.campaign":
            return {
                "name": f"New{number}",
                "company_id": campaign.company_id.id,
                "scope": campaign.scope,
                "user_id": campaign.user_id.id,
            }
        if model == "campaign.target":
            return {"campaign_id": campaign.id, "name": "New", "source": "manual", "partner_ids": self.partners.ids}
        if model == "campaign.action":
            return {"campaign_id": campaign.id, "name": "New", "channel": "email"}
        if model == "campaign.action.variant":
            return {"action_id": samples["campaign.action"].id, "name": f"V{number}"}
        if model == "campaign.action.run":
            return {"action_id": samples["campaign.action"].id, "run_number": 100 + number}
        if model == "campaign.touchpoint":
            return {
                "action_id": samples["campaign.action"].id,
                "partner_id": self.partners[0].id,
                "run_number": -number,
            }
        if model == "campaign.weblink":
            return {"action_id": samples["web_action"].id, "name": f"New {number}", "url": "https://example.com/new"}
        if model == "campaign.calendar.item":
            company = campaign.company_id if campaign else value
            return {
                "name": "New",
                "kind": "reminder",
                "company_id": company.id,
                "campaign_id": campaign.id if campaign else False,
            }
        if model == "campaign.touchpoint.type":
            return {"name": f"New {number}", "company_id": value.id if value else False}
        if model == "campaign.kpi.choice":
            return {"user_id": value.id, "metric": "roi"}
        if model == "mailing.mailing":
            values = {"subject": "New", "mailing_model_id": self.partner_model.id}
            if campaign:
                values["campaign_action_id"] = samples["campaign.action"].id
            return values
        if model == "mailing.trace":
            mailing = samples["mailing.mailing"] if campaign else self.plain_mailing
            return {"mass_mailing_id": mailing.id, "model": "res.partner", "res_id": self.partners[1].id}
        return None

    def test_figures_for_accountants(self):
        """Accountants read the costs, revenue and ROI of the campaigns they see, not those of
        personal campaigns, and none of the secrets of the actions and pages."""
        for login in ("accountant", "readonly"):
            user = self.users[login]
            for key, samples in self.samples.items():
                for model, names in FIGURES.items():
                    records = (
                        samples[model]
                        if model != "campaign.analysis.report"
                        else self.env[model].search([("campaign_id", "=", samples["campaign.campaign"].id)])
                    )
                    with self.subTest(user=login, campaign=key, model=model):
                        if key in VISIBLE_CAMPAIGNS[login]:
                            self.assertEqual(records.with_user(user).read(names), records.read(names))
                        else:
                            with self.assertRaises(AccessError):
                                records.with_user(user).read(names)
            company = self.samples["c1_company"]
            with self.subTest(user=login, field="secrets"):
                with self.assertRaises(AccessError):
                    company["campaign.action"].with_user(user).read(["webhook_secret"])
                with self.assertRaises(AccessError):
                    company["campaign.touchpoint"].with_user(user).read(["landing_token"])
        self.assertEqual(
            self.samples["c1_company"]["campaign.campaign"].with_user(self.users["accountant"]).budget, 1000
        )

    def test_events_and_tasks_follow_the_campaign(self):
        """The calendar and projects show their events' attendees and their tasks to every employee:
        those of a campaign (its contacts) follow the campaign. A personal campaign's event is
        private (colleagues see the time taken) and its project open to its followers only."""
        users = self.users
        for key in ("c1_company", "c1_a"):
            campaign = self.samples[key]["campaign.campaign"]
            owner = campaign.user_id
            campaign.action_ids.action_cancel()  # only the event and the task run
            self.env["campaign.action"].create(
                [
                    {
                        "campaign_id": campaign.id,
                        "name": "Webinar",
                        "channel": "event",
                        "user_id": owner.id,
                        "event_name": f"Webinar {key}",
                        "event_delay": 7,
                        "event_delay_unit": "days",
                    },
                    {"campaign_id": campaign.id, "name": "Call", "channel": "task", "user_id": owner.id},
                ]
            )
            Form(
                self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)
            ).save().action_launch()
        self.env["campaign.action"]._cron_process()
        failures = []
        for key in ("c1_company", "c1_a"):
            campaign = self.samples[key]["campaign.campaign"]
            attendees = self.env["calendar.attendee"].search(
                [("event_id.campaign_run_id.campaign_id", "=", campaign.id)]
            )
            tasks = self.env["project.task"].search([("project_id", "=", campaign.project_id.id)])
            self.assertEqual((attendees.partner_id & self.partners, len(tasks)), (self.partners, 2), key)
            for login, user in users.items():
                with self._case(failures, campaign=key, user=login):
                    self.env.invalidate_all()
                    if login in ("portal", "public"):
                        with self.assertRaises(AccessError):
                            self.env["calendar.attendee"].with_user(user).search([("id", "in", attendees.ids)])
                        continue
                    shown = login == "manager" or campaign.scope == "company" or campaign.user_id == user
                    if campaign.company_id not in user.company_ids:
                        shown = False
                    found = self.env["calendar.attendee"].with_user(user).search([("id", "in", attendees.ids)])
                    self.assertEqual(
                        found.partner_id & self.partners, self.partners if shown else self.partners.browse()
                    )
                    event = attendees.event_id.with_user(user)
                    if campaign.scope == "personal" and campaign.user_id != user:
                        self.assertEqual(event.read(["name", "partner_ids"])[0]["partner_ids"], [], "private event")
                    # the tasks: the project's rights (a personal campaign's: its followers and assignees)
                    visible_tasks = self.env["project.task"].with_user(user).search([("id", "in", tasks.ids)])
                    expected = campaign.scope == "company" and campaign.company_id in user.company_ids
                    self.assertEqual(bool(visible_tasks), expected or campaign.user_id == user)
        self.assertFalse(failures, "\n".join(failures))
