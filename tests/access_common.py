from contextlib import contextmanager

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user
from odoo.tools import SQL

from .common import CampaignCase, RpcClientMixin

# Who sees which campaign of the fixtures (see AccessCase): the grant the rules must give, exactly.
VISIBLE_CAMPAIGNS = {
    "user_a": {"c1_company", "c1_a"},
    "user_b": {"c1_company", "c1_b"},
    "manager": {"c1_company", "c1_a", "c1_b"},
    "user_c": {"c2_company", "c2_c"},
    "accountant": {"c1_company"},
    "readonly": {"c1_company"},
    "salesman": set(),
    "portal": set(),
    "public": set(),
}
# Rights of each kind of user per model (r read, w write, c create, d delete), from the access lists.
CAMPAIGN_DATA = {"user": "rwcd", "manager": "rwcd", "accountant": "r", "readonly": "r"}
EXECUTION_DATA = {"user": "rwc", "manager": "rwcd", "accountant": "r", "readonly": "r"}
# Runs are created by the campaign job only.
RUN_DATA = {"user": "rw", "manager": "rwd", "accountant": "r", "readonly": "r"}
READ_ONLY = {"user": "r", "manager": "r", "accountant": "r", "readonly": "r"}
# Enrolments are made by the triggers only; managers may remove one.
ENROLMENT_DATA = {"user": "r", "manager": "rd", "accountant": "r", "readonly": "r"}
PERMS = {
    "campaign.campaign": CAMPAIGN_DATA,
    "campaign.target": CAMPAIGN_DATA,
    "campaign.action": CAMPAIGN_DATA,
    "campaign.action.variant": CAMPAIGN_DATA,
    "campaign.action.run": RUN_DATA,
    "campaign.touchpoint": EXECUTION_DATA,
    "campaign.weblink": CAMPAIGN_DATA,
    "campaign.calendar.item": CAMPAIGN_DATA,
    "campaign.trigger": CAMPAIGN_DATA,
    "campaign.enrolment": ENROLMENT_DATA,
    "campaign.touchpoint.type": {"user": "r", "manager": "rwcd", "accountant": "r", "readonly": "r"},
    "campaign.kpi.choice": {"user": "rwcd", "manager": "rwcd", "accountant": "rwcd", "readonly": "rwcd"},
    "campaign.todo": READ_ONLY,
    "campaign.calendar.entry": READ_ONLY,
    "campaign.analysis.report": READ_ONLY,
    # Email Marketing's own rights (campaign users are Email Marketing users); the addon's rules
    # keep the mailings and traces of campaigns to those who see the campaign
    "mailing.mailing": {"user": "rwcd", "manager": "rwcd"},
    "mailing.trace": {"user": "rwcd", "manager": "rwcd"},
}
# Tables whose content must not change when a user is refused (or only reads).
WATCHED_TABLES = (
    "campaign_campaign",
    "campaign_target",
    "campaign_target_partner_rel",
    "campaign_action",
    "campaign_action_variant",
    "campaign_action_run",
    "campaign_touchpoint",
    "campaign_weblink",
    "campaign_calendar_item",
    "campaign_trigger",
    "campaign_enrolment",
    "campaign_touchpoint_type",
    "campaign_kpi_choice",
    "mailing_mailing",
    "mailing_trace",
    "mail_mail",
    "sms_sms",
    "mail_blacklist",
    "phone_blacklist",
    "link_tracker",
    "link_tracker_click",
    "crm_lead",
    "res_partner",
    "utm_campaign",
    "utm_source",
    "account_analytic_account",
    "project_project",
    "mail_activity",
    "project_task",
    "calendar_event",
    "calendar_attendee",
)


def fingerprint(env, tables=WATCHED_TABLES, messages=True):
    """A digest of the content of ``tables`` (and of the number of messages): equal digests, nothing
    changed."""
    env.flush_all()
    digests = {}
    for table in tables:
        env.cr.execute(
            SQL("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM %s t", SQL.identifier(table))
        )
        digests[table] = env.cr.fetchone()
    if messages:
        env.cr.execute(SQL("SELECT count(*), max(id) FROM mail_message"))
        digests["mail_message"] = env.cr.fetchone()
    return digests


class AccessCase(CampaignCase):
    """Users of every kind in two companies, and in each company a company campaign and personal
    campaigns, each with a record of every kind (target, actions, run, touchpoints, web link,
    calendar item, mailing and trace), beside calendar items without campaign, touchpoint types
    and KPI choices. ``fixtures`` maps each model to its records and what grants them:
    ("campaign", key), ("company", company), ("shared", None) or ("owner", user)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_1 = cls.env.company
        cls.company_2 = cls.env["res.company"].create({"name": "Access Second Company"})

        def user(login, groups, company=cls.company_1, name=None):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                name=name or login,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        cls.users = {
            "user_a": user("acc_user_a", "campaign_manager.group_campaign_user"),
            "user_b": user("acc_user_b", "campaign_manager.group_campaign_user"),
            "manager": user("acc_manager", "campaign_manager.group_campaign_manager"),
            "user_c": user("acc_user_c", "campaign_manager.group_campaign_user", company=cls.company_2),
            "accountant": user("acc_accountant", "account.group_account_invoice"),
            "readonly": user("acc_readonly", "account.group_account_readonly"),
            "salesman": user("acc_salesman", "sales_team.group_sale_salesman"),
            "portal": user("acc_portal", "base.group_portal"),
            "public": cls.env.ref("base.public_user"),
        }
        cls.roles = {
            "user_a": "user",
            "user_b": "user",
            "manager": "manager",
            "user_c": "user",
            "accountant": "accountant",
            "readonly": "readonly",
            "salesman": "none",
            "portal": "none",
            "public": "none",
        }
        users = cls.users
        cls.partners = cls._partners(2, prefix="access")
        cls.partner_model = cls.env["ir.model"]._get("res.partner")
        specs = {
            "c1_company": (cls.company_1, "company", users["user_b"]),
            "c1_a": (cls.company_1, "personal", users["user_a"]),
            "c1_b": (cls.company_1, "personal", users["user_b"]),
            "c2_company": (cls.company_2, "company", users["user_c"]),
            "c2_c": (cls.company_2, "personal", users["user_c"]),
        }
        cls.campaigns = {
            key: cls.env["campaign.campaign"].create(
                {
                    "name": f"Access{key}",
                    "company_id": company.id,
                    "scope": scope,
                    "user_id": owner.id,
                    "budget": 1000.0,
                    "date_start": fields.Date.today(),
                }
            )
            for key, (company, scope, owner) in specs.items()
        }
        cls.fixtures = {model: [] for model in PERMS}
        cls.samples = {}  # campaign key -> {model: record}
        for key, campaign in cls.campaigns.items():
            cls.samples[key] = cls._campaign_records(key, campaign)
        # records that belong to a company, to everybody, or to one user
        for company in (cls.company_1, cls.company_2):
            cls._add(
                "campaign.calendar.item",
                cls.env["campaign.calendar.item"].create(
                    {"name": "Trade fair", "kind": "reminder", "company_id": company.id}
                ),
                ("company", company),
            )
            cls._add(
                "campaign.touchpoint.type",
                cls.env["campaign.touchpoint.type"].create({"name": f"Visit {company.name}", "company_id": company.id}),
                ("company", company),
            )
        cls._add(
            "campaign.touchpoint.type",
            cls.env["campaign.touchpoint.type"].create({"name": "Shared visit", "company_id": False}),
            ("shared", None),
        )
        for login in ("user_a", "user_b", "user_c", "accountant"):
            cls._add(
                "campaign.kpi.choice",
                cls.env["campaign.kpi.choice"].create({"user_id": users[login].id, "metric": "budget"}),
                ("owner", users[login]),
            )
        cls.plain_mailing = cls.env["mailing.mailing"].create(
            {"subject": "Newsletter", "mailing_model_id": cls.partner_model.id, "body_html": "<p>News</p>"}
        )
        cls._add("mailing.mailing", cls.plain_mailing, ("shared", None))
        cls._add("mailing.trace", cls._trace(cls.plain_mailing, cls.partners[1]), ("shared", None))
        # the SQL views, once everything is written
        cls.env.flush_all()
        campaign_ids = [campaign.id for campaign in cls.campaigns.values()]
        by_id = {campaign.id: key for key, campaign in cls.campaigns.items()}
        for model in ("campaign.todo", "campaign.calendar.entry", "campaign.analysis.report"):
            rows = cls.env[model].search(
                ["|", ("campaign_id", "in", campaign_ids), ("company_id", "in", [cls.company_1.id, cls.company_2.id])]
            )
            for row in rows:
                if row.campaign_id:
                    if row.campaign_id.id in by_id:
                        cls._add(model, row, ("campaign", by_id[row.campaign_id.id]))
                elif model == "campaign.calendar.entry" and row.item_id in cls._items_without_campaign():
                    cls._add(model, row, ("company", row.company_id))

    @classmethod
    def _add(cls, model, record, key):
        cls.fixtures[model].append((record, key))
        return record

    @classmethod
    def _items_without_campaign(cls):
        return cls.env["campaign.calendar.item"].browse(
            [record.id for record, key in cls.fixtures["campaign.calendar.item"] if key[0] == "company"]
        )

    @classmethod
    def _trace(cls, mailing, partner):
        return cls.env["mailing.trace"].create(
            {
                "mass_mailing_id": mailing.id,
                "model": "res.partner",
                "res_id": partner.id,
                "email": partner.email,
                "trace_type": "mail",
                "trace_status": "sent",
            }
        )

    @classmethod
    def _campaign_records(cls, key, campaign):
        """One record of every kind in ``campaign``, built as superuser."""
        grant = ("campaign", key)
        target = cls._add("campaign.target", cls._manual_target(campaign, cls.partners), grant)
        action = cls._add(
            "campaign.action",
            cls._email_action(campaign, name=f"Offer {key}", fixed_cost=50.0, date_start=fields.Datetime.now()),
            grant,
        )
        variant = cls._add(
            "campaign.action.variant",
            cls.env["campaign.action.variant"].create({"action_id": action.id, "subject": f"Offer {key}, B side"}),
            grant,
        )
        web_action = cls._add(
            "campaign.action",
            cls.env["campaign.action"].create(
                {"campaign_id": campaign.id, "name": f"Flyer {key}", "channel": "weblink"}
            ),
            grant,
        )
        weblink = cls._add(
            "campaign.weblink",
            cls.env["campaign.weblink"].create(
                {"action_id": web_action.id, "name": "Shop window", "url": "https://shop.example.com/flyer"}
            ),
            grant,
        )
        run = cls._add(
            "campaign.action.run",
            cls.env["campaign.action.run"].create({"action_id": action.id, "run_number": 1, "state": "done"}),
            grant,
        )
        mailing = cls._add(
            "mailing.mailing",
            cls.env["mailing.mailing"].create(
                {
                    "subject": f"Offer of {campaign.name}",
                    "mailing_model_id": cls.partner_model.id,
                    "body_html": "<p>Our offer</p>",
                    "campaign_action_id": action.id,
                    "campaign_run_id": run.id,
                }
            ),
            grant,
        )
        trace = cls._add("mailing.trace", cls._trace(mailing, cls.partners[0]), grant)
        touchpoints = cls.env["campaign.touchpoint"].create(
            [
                {
                    "action_id": action.id,
                    "run_id": run.id,
                    "run_number": 1,
                    "partner_id": partner.id,
                    "state": "sent",
                    "date_done": fields.Datetime.now(),
                    "mailing_id": mailing.id,
                    "mailing_trace_id": trace.id if partner == cls.partners[0] else False,
                }
                for partner in cls.partners
            ]
        )
        for touchpoint in touchpoints:
            cls._add("campaign.touchpoint", touchpoint, grant)
        item = cls._add(
            "campaign.calendar.item",
            cls.env["campaign.calendar.item"].create(
                {
                    "name": "Post",
                    "kind": "social",
                    "network": "linkedin",
                    "campaign_id": campaign.id,
                    "company_id": campaign.company_id.id,
                }
            ),
            grant,
        )
        trigger = cls._add(
            "campaign.trigger",
            cls.env["campaign.trigger"].create({"campaign_id": campaign.id, "trigger_type": "webhook"}),
            grant,
        )
        enrolment = cls._add(
            "campaign.enrolment",
            cls.env["campaign.enrolment"].create(
                {
                    "campaign_id": campaign.id,
                    "partner_id": cls.partners[0].id,
                    "trigger_id": trigger.id,
                    "cause": "webhook",
                    "date_enrolled": fields.Datetime.now(),
                    "touchpoint_id": touchpoints[0].id,
                    "step_action_id": action.id,
                }
            ),
            grant,
        )
        return {
            "campaign.campaign": cls._add("campaign.campaign", campaign, grant),
            "campaign.trigger": trigger,
            "campaign.enrolment": enrolment,
            "campaign.target": target,
            "campaign.action": action,
            "campaign.action.variant": variant,
            "campaign.weblink": weblink,
            "campaign.action.run": run,
            "campaign.touchpoint": touchpoints[0],
            "campaign.calendar.item": item,
            "mailing.mailing": mailing,
            "mailing.trace": trace,
            "web_action": web_action,
        }

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _perms(self, model, login):
        return PERMS[model].get(self.roles[login], "")

    def _grants(self, login, key):
        """Whether the rules give ``login`` the records granted by ``key`` (rights aside)."""
        kind, value = key
        user = self.users[login]
        if kind == "campaign":
            return value in VISIBLE_CAMPAIGNS[login]
        if kind == "company":
            return value in user.company_ids
        if kind == "owner":
            return value == user
        return True

    @contextmanager
    def _case(self, failures, **params):
        """A subTest whose failure is noted and the loop goes on: every failure of a matrix is
        listed at once (``failures`` is asserted empty at the end), whatever runs the tests."""
        with self.subTest(**params):
            try:
                yield
            except AssertionError as error:
                failures.append(f"{params}: {error}")

    def _fingerprint(self):
        return fingerprint(self.env)

    _counter = 0

    def _create_values(self, model, key):
        """Values of a new record granted by ``key`` (None for the models nobody creates)."""
        AccessCase._counter += 1
        number = AccessCase._counter
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
        if model == "campaign.trigger":
            return {"campaign_id": campaign.id, "trigger_type": "webhook"}
        if model == "campaign.touchpoint.type":
            return {"name": f"New {number}", "company_id": value.id if value else False}
        if model == "campaign.kpi.choice":
            return {"user_id": value.id, "metric": "roi"}
        if model == "mailing.mailing":
            if campaign:
                return None  # the mailings of campaigns are the engine's (see test_access_links)
            return {"subject": "New", "mailing_model_id": self.partner_model.id}
        if model == "mailing.trace":
            mailing = samples["mailing.mailing"] if campaign else self.plain_mailing
            return {"mass_mailing_id": mailing.id, "model": "res.partner", "res_id": self.partners[1].id}
        return None


class AccessHttpCase(RpcClientMixin, HttpCase, AccessCase):
    """The fixtures of :class:`AccessCase`, for tests that go through a real client (JSON-RPC)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._rpc_prepare_keys(cls.env["res.users"].union(*cls.users.values()))
