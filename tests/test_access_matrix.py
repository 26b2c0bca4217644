from contextlib import closing

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .access_common import PERMS, VISIBLE_CAMPAIGNS, AccessCase, AccessHttpCase
from .common import RpcError

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
    "campaign.trigger": "sequence",
    "campaign.enrolment": "cause_ref",
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
        self.env["campaign.engine"]._cron_process()
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


@tagged("post_install", "-at_install")
class TestAccessMatrixRpc(AccessHttpCase):
    """The matrix of TestAccessMatrix (the same tables, the same fixtures), through the clients the
    users really use: the external /json/2 API with an API key and the web client's call_kw with a
    session, for every kind of user (a visitor without credentials for the public user). Nothing
    runs in the test's own environment: search, read, write, delete and create are answered by the
    server with the user's rights."""

    def test_rpc_matrix_json2(self):
        self._rpc_matrix("json2")

    def test_rpc_matrix_call_kw(self):
        self._rpc_matrix("call_kw")

    def _rpc_matrix(self, client):
        self.env.flush_all()
        failures = []
        # creations last: the records created stay (nothing is rolled back over HTTP), and would
        # renumber the rows of the SQL views
        for phase in ("existing", "create"):
            for login in self.users:  # user by user: one session each
                for model in PERMS:
                    with self._case(failures, client=client, model=model, user=login, phase=phase):
                        if phase == "existing":
                            self._check_model_rpc(client, model, login)
                        else:
                            self._check_create_rpc(client, model, login)
        self.assertFalse(failures, "\n".join(failures))

    def _refused(self, client, user, model, method, ids=None, **kwargs):
        """The call is refused: an access error (any refusal for a visitor, who has no session)."""
        with self.assertRaises(RpcError) as caught:
            self.rpc(client, user, model, method, ids=ids, **kwargs)
        if not user._is_public():
            self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError", caught.exception.message)

    def _check_model_rpc(self, client, model, login):
        user = self.users[login]
        perms = self._perms(model, login)
        records = self.fixtures[model]
        field = FIELDS[model]
        all_ids = [record.id for record, _key in records]
        granted = [record for record, key in records if self._grants(login, key)]
        others = [record for record, key in records if not self._grants(login, key)]
        domain = [["id", "in", all_ids]]
        search = {"domain": domain} if client == "json2" else {"args": [domain]}
        if "r" in perms:
            found = self.rpc(client, user, model, "search", **search)
            self.assertEqual(
                set(found), {record.id for record in granted}, f"{login} finds exactly the {model} granted"
            )
            if granted:
                read = self.rpc(client, user, model, "read", ids=[r.id for r in granted], fields=[field])
                expected = {record.id: record.read([field])[0][field] for record in granted}
                self.assertEqual({row["id"]: row[field] for row in read}, expected)
            for record in others:
                self._refused(client, user, model, "read", ids=record.ids, fields=[field])
        else:
            self._refused(client, user, model, "search", **search)
            self._refused(client, user, model, "read", ids=all_ids, fields=[field])
        values = {record.id: record.read([field])[0][field] for record, _key in records}
        if "w" in perms:
            for record in granted:
                self.assertTrue(self.rpc(client, user, model, "write", ids=record.ids, vals={field: values[record.id]}))
            for record in others:
                self._refused(client, user, model, "write", ids=record.ids, vals={field: values[record.id]})
        else:
            for record in (granted or others)[:1] + others[:1]:
                self._refused(client, user, model, "write", ids=record.ids, vals={field: values[record.id]})
        if "d" in perms and granted:
            self.assertTrue(
                self.rpc(client, user, model, "has_access", ids=[r.id for r in granted], operation="unlink"),
                f"{login} may delete the {model} granted",
            )
        for record in others if "d" in perms else (granted or others)[:1] + others[:1]:
            self._refused(client, user, model, "unlink", ids=record.ids)
        self.env.invalidate_all()
        self.assertEqual(len(self.env[model].browse(all_ids).exists()), len(all_ids), "nothing deleted")

    def _check_create_rpc(self, client, model, login):
        user = self.users[login]
        perms = self._perms(model, login)
        for key in dict.fromkeys(key for _record, key in self.fixtures[model]):
            values = self._create_values(model, key)
            if values is None:
                continue
            if "c" in perms and self._grants(login, key):
                self.assertTrue(self.rpc(client, user, model, "create", **self._create_kwargs(client, values)))
            else:
                self._refused(client, user, model, "create", **self._create_kwargs(client, values))

    @staticmethod
    def _create_kwargs(client, values):
        return {"vals_list": [values]} if client == "json2" else {"args": [values]}
