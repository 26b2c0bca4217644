import json

from lxml import etree

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

ADDON = "odoo.addons.campaign_manager."
# Each role with exactly the groups its users get.
ROLES = {
    "user": "campaign_manager.group_campaign_user",
    "manager": "campaign_manager.group_campaign_manager",
    "accountant": "account.group_account_invoice",
    "readonly": "account.group_account_readonly",
}
VIEW_TYPES = ("list", "kanban", "form", "calendar", "pivot", "graph")


@tagged("post_install", "-at_install")
class TestRoleScreens(HttpCase):
    """What each role is shown, it can use. Through the web client's own calls (load_menus,
    /web/action/load, get_views, call_button), as users holding exactly their role's groups, every
    screen reachable from the Campaigns menus is crawled: each window a menu or a button opens
    must be readable by the role (a wizard, creatable), and each button of the addon left in its
    views must not be refused with an access error (a button that does not fit the record's state
    may still say so). Accountants thus see no button that changes a campaign, and do get the
    figures (Calculate, Execution Info, Analysis, the reports)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True))
        cls.users = {
            role: new_test_user(env, login=f"screens_{role}", name=f"Screens {role}", groups=groups)
            for role, groups in ROLES.items()
        }
        # a company campaign of the plain user, with a record of every kind (built as superuser: the
        # fixture, not the path under test)
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Screens contact {index}",
                    "email": f"screens.{index}@example.com",
                    "phone": f"+33 6 12 34 56 {index:02d}",
                    "street": "1 rue de Paris",
                    "zip": "75001",
                    "city": "Paris",
                    "country_id": env.ref("base.fr").id,
                }
                for index in range(2)
            ]
        )
        template = env["mail.template"].create(
            {
                "name": "Screens email",
                "model_id": env["ir.model"]._get_id("res.partner"),
                "subject": "Hello {{ object.name }}",
                "body_html": "<p>Hello</p>",
            }
        )
        campaign = env["campaign.campaign"].create(
            {
                "name": "ScreensCampaign",
                "user_id": cls.users["user"].id,
                "budget": 1000.0,
                "date_start": fields.Date.today(),
            }
        )
        campaign.action_create_project()
        env["campaign.target"].create(
            {
                "campaign_id": campaign.id,
                "name": "Picked",
                "source": "manual",
                "partner_ids": [Command.set(partners.ids)],
            }
        )
        contents = {
            "email": {"mail_template_id": template.id},
            "sms": {"sms_body": "Hello"},
            "letter": {"letter_body": "<p>Dear customer</p>"},
            "landing": {"landing_title": "Your offer", "landing_body": "<p>Welcome</p>"},
            "webhook": {"webhook_url": "https://hooks.example.com/campaign"},
            "task": {"task_mode": "contact", "task_name": "Call {contact}"},
            "event": {"event_name": "Webinar"},
            "weblink": {},
        }
        actions = env["campaign.action"].create(
            [
                {"campaign_id": campaign.id, "name": f"Screens {channel}", "channel": channel, **values}
                for channel, values in contents.items()
            ]
        )
        email = actions.filtered(lambda a: a.channel == "email")
        env["campaign.action.variant"].create({"action_id": email.id, "subject": "B side"})
        env["campaign.weblink"].create(
            {
                "action_id": actions.filtered(lambda a: a.channel == "weblink").id,
                "name": "Shop window",
                "url": "https://shop.example.com/flyer",
            }
        )
        run = env["campaign.action.run"].create({"action_id": email.id, "run_number": 1, "state": "done"})
        mailing = env["mailing.mailing"].create(
            {
                "subject": "Screens offer",
                "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                "body_html": "<p>Offer</p>",
                "campaign_action_id": email.id,
                "campaign_run_id": run.id,
            }
        )
        trace = env["mailing.trace"].create(
            {
                "mass_mailing_id": mailing.id,
                "model": "res.partner",
                "res_id": partners[0].id,
                "email": partners[0].email,
                "trace_type": "mail",
                "trace_status": "sent",
            }
        )
        env["campaign.touchpoint"].create(
            [
                {
                    "action_id": email.id,
                    "run_id": run.id,
                    "run_number": 1,
                    "partner_id": partner.id,
                    "state": "sent",
                    "date_done": fields.Datetime.now(),
                    "mailing_id": mailing.id,
                    "mailing_trace_id": trace.id,
                    "res_model": "mailing.trace",
                    "res_id": trace.id,
                }
                for partner in partners[:1]
            ]
        )
        env["campaign.calendar.item"].create(
            {"name": "Post", "kind": "social", "network": "linkedin", "campaign_id": campaign.id}
        )
        env["campaign.touchpoint.type"].create({"name": "Screens visit"})
        cls.campaign = campaign
        env.flush_all()

    # ------------------------------------------------------------------
    # THE WEB CLIENT'S CALLS
    # ------------------------------------------------------------------
    def _login(self, user):
        self.authenticate(user.login, user.login)

    def _jsonrpc(self, route, params):
        """``params`` posted to ``route`` as the web client does; (result, error name, message)."""
        response = self.url_open(
            route,
            data=json.dumps({"id": 1, "jsonrpc": "2.0", "method": "call", "params": params}),
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            data = answer["error"].get("data", {})
            return None, data.get("name") or "", data.get("message") or ""
        return answer.get("result"), None, None

    def _call(self, model, method, args=(), kwargs=None, route="call_kw"):
        return self._jsonrpc(
            f"/web/dataset/{route}/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}},
        )

    def _menus(self):
        """The Campaigns app's menus the session's user is shown, with their action."""
        response = self.url_open("/web/webclient/load_menus")
        menus = response.json()
        root = next(
            (m for m in menus.values() if m.get("xmlid") == "campaign_manager.campaign_manager_menu_root"), None
        )
        found, todo = [], [root] if root else []
        while todo:
            menu = todo.pop()
            if menu.get("actionID"):
                found.append(menu)
            todo += [menus[str(child)] for child in menu.get("children", []) if str(child) in menus]
        return found

    # ------------------------------------------------------------------
    # THE CRAWL
    # ------------------------------------------------------------------
    def _record(self, model):
        """A record of ``model`` of the fixture campaign (or of its company), or None."""
        Model = self.env[model].with_context(active_test=False)
        if "campaign_id" in Model._fields and Model._fields["campaign_id"].comodel_name == "campaign.campaign":
            record = Model.search([("campaign_id", "=", self.campaign.id)], limit=1)
        elif model == "campaign.campaign":
            record = self.campaign
        elif model == "campaign.touchpoint.type":
            record = Model.search([("name", "=", "Screens visit")], limit=1)
        else:
            return None
        return record.id or None

    def _addon_model(self, model):
        """Whether the addon defines ``model``."""
        return model in self.env.registry and type(self.env[model])._original_module == "campaign_manager"

    def _addon_method(self, model, name):
        """Whether ``name`` is a method the addon defines on ``model``."""
        if model not in self.env.registry:
            return False
        return any(
            klass.__module__.startswith(ADDON) and name in vars(klass) for klass in type(self.env[model]).__mro__
        )

    def _addon_action(self, ref):
        """Whether the action ``ref`` (an id or an xml id) is the addon's."""
        if isinstance(ref, str) and not ref.isdigit():
            return ref.startswith("campaign_manager.")
        data = self.env["ir.model.data"].search(
            [("model", "like", "ir.actions."), ("res_id", "=", int(ref)), ("module", "=", "campaign_manager")],
            limit=1,
        )
        return bool(data)

    def _buttons(self, arch, model, fields_by_model):
        """(model, type, name, node) for each button of ``arch``; the model of a button inside a
        relational field's sub-view is that field's comodel."""
        root = etree.fromstring(arch)
        for node in root.iter("button"):
            if node.get("special") or node.get("invisible") in ("1", "True", "true"):
                continue
            button_model = model
            for ancestor in reversed(list(node.iterancestors("field"))):
                info = fields_by_model.get(button_model, {}).get(ancestor.get("name"), {})
                button_model = info.get("relation") or button_model
            yield button_model, node.get("type"), node.get("name"), node

    def _open(self, action, origin, failures, queue, seen):
        """Check a window action as the web client opens it; queue its views' buttons."""
        model = action.get("res_model")
        if not model:
            return
        context = action.get("context") if isinstance(action.get("context"), dict) else {}
        if action.get("target") == "new" and not action.get("res_id"):
            result, error, message = self._call(model, "has_access", [[], "create"])
            if not result:
                failures.append(f"{origin}: opens the wizard {model}, which the role may not create ({message})")
            return
        if action.get("res_id"):
            _result, error, message = self._call(
                model, "web_read", [[action["res_id"]]], {"specification": {"display_name": {}}}
            )
        else:
            domain = action.get("domain") if isinstance(action.get("domain"), list) else []
            _result, error, message = self._call(
                model, "web_search_read", [domain], {"specification": {"display_name": {}}, "limit": 1}
            )
        if error:
            failures.append(f"{origin}: opens {model}, refused to the role: {error}: {message}")
            return
        view_types = [v for _view_id, v in action.get("views") or [] if v in VIEW_TYPES] or ["list", "form"]
        if "form" not in view_types:
            view_types.append("form")
        key = (model, tuple(sorted(view_types)), action.get("res_id"))
        if key in seen:
            return
        seen.add(key)
        views = [[view_id, view_type] for view_id, view_type in action.get("views") or [] if view_type in view_types]
        views += [[False, v] for v in view_types if v not in {view_type for _id, view_type in views}]
        result, error, message = self._call(
            model, "get_views", [], {"views": views, "options": {"toolbar": True}, "context": context}
        )
        if error:
            failures.append(f"{origin}: the views of {model} do not load: {error}: {message}")
            return
        fields_by_model = {name: info["fields"] for name, info in result["models"].items()}
        active = fields_by_model.get(model, {}).get("active")
        if active and not active.get("readonly") and self._addon_model(model):
            # the web client then offers Archive and Unarchive
            can_write, _error, _message = self._call(model, "has_access", [[], "write"])
            if not can_write:
                failures.append(f"{origin}: {model} offers Archive to the role, which may not change it")
        can_write = None
        for view_type, view in result["views"].items():
            if view_type == "kanban" and self._addon_model(model):
                root = etree.fromstring(view["arch"])
                if root.get("records_draggable") not in ("0", "false", "False"):
                    if can_write is None:
                        can_write = self._call(model, "has_access", [[], "write"])[0]
                    if not can_write:
                        failures.append(f"{origin}: {model} cards can be dragged by a role that may not change them")
            for button_model, kind, name, _node in self._buttons(view["arch"], model, fields_by_model):
                queue.append((f"{origin} > {model} {view_type} button {name}", button_model, kind, name, action))
            for print_action in view.get("toolbar", {}).get("print", []):
                origin_print = f"{origin} > {model} print {print_action['name']}"
                queue.append((origin_print, model, "report", print_action, action))

    def _press(self, origin, model, kind, name, action, failures, queue):
        """Press a button as the web client does: an access error is a failure."""
        record_id = action.get("res_id") if action.get("res_model") == model and action.get("res_id") else None
        record_id = record_id or self._record(model)
        if kind == "report":
            if record_id and self._addon_action(name["id"]):
                report, error, message = self._jsonrpc("/web/action/load", {"action_id": name["id"]})
                if error:
                    failures.append(f"{origin}: the report does not load: {message}")
                    return
                response = self.url_open(f"/report/html/{report['report_name']}/{record_id}")
                # 422: a message for the user (the letter of an email touchpoint is not printed)
                if response.status_code not in (200, 422):
                    failures.append(f"{origin}: the report answers {response.status_code}")
            return
        if kind == "action":
            if not self._addon_action(name):
                return
            result, error, message = self._jsonrpc("/web/action/load", {"action_id": name})
        else:
            if not record_id or not self._addon_method(model, name):
                return
            context = {"active_id": record_id, "active_ids": [record_id], "active_model": model}
            result, error, message = self._call(model, name, [[record_id]], {"context": context}, route="call_button")
        if error == "odoo.exceptions.AccessError":
            failures.append(f"{origin} (on {model} {record_id}): shown to the role, refused: {message}")
        elif isinstance(result, dict) and result.get("type") == "ir.actions.act_window":
            queue.append((f"{origin} >", None, "window", None, result))

    def _crawl(self, role):
        user = self.users[role]
        self._login(user)
        failures, seen, pressed, queue = [], set(), set(), []
        menus = self._menus()
        for menu in menus:
            result, error, message = self._jsonrpc("/web/action/load", {"action_id": menu["actionID"]})
            if error:
                failures.append(f"menu {menu['name']}: its action does not load: {message}")
            elif result.get("type") == "ir.actions.act_window":
                queue.append((f"menu {menu['name']}", None, "window", None, result))
        while queue:
            origin, model, kind, name, action = queue.pop(0)
            if kind == "window":
                self._open(action, origin, failures, queue, seen)
                continue
            key = (model, kind, json.dumps(name, sort_keys=True, default=str))
            if key in pressed:
                continue
            pressed.add(key)
            self._press(origin, model, kind, name, action, failures, queue)
        return menus, seen, pressed, failures

    # ------------------------------------------------------------------
    # TESTS
    # ------------------------------------------------------------------
    def _check_role(self, role):
        menus, seen, pressed, failures = self._crawl(role)
        self.assertFalse(failures, f"{role}:\n" + "\n".join(failures))
        return {menu["xmlid"] for menu in menus}, {key[0] for key in seen}, pressed

    def _object_buttons(self, pressed, model):
        return {json.loads(name) for button_model, kind, name in pressed if kind == "object" and button_model == model}

    def test_accountant_screens(self):
        menus, models, pressed = self._check_role("accountant")
        self.assertNotIn("campaign_manager.campaign_campaign_order_menu", menus)
        self.assertIn("campaign_manager.campaign_analysis_report_menu", menus)
        self.assertIn("campaign.analysis.report", models)
        buttons = self._object_buttons(pressed, "campaign.campaign")
        # the figures are there, and nothing that would change the campaign
        self.assertLessEqual({"action_calculate", "action_view_runs", "action_view_analysis"}, buttons)
        self.assertFalse(
            buttons
            & {
                "action_stop",
                "action_done",
                "action_cancel",
                "action_open_duplicate",
                "action_create_project",
                "action_launch",
                "action_archive",
            }
        )
        self.assertIn("campaign.campaign.calculate", models, "Calculate opens its figures")

    def test_readonly_accountant_screens(self):
        _menus, models, pressed = self._check_role("readonly")
        self.assertIn("action_calculate", self._object_buttons(pressed, "campaign.campaign"))
        self.assertIn("campaign.action.run", models, "Execution Info opens")

    def test_campaign_user_screens(self):
        menus, _models, pressed = self._check_role("user")
        self.assertIn("campaign_manager.campaign_campaign_order_menu", menus)
        self.assertLessEqual(
            {"action_create_project", "action_calculate", "action_launch"},
            self._object_buttons(pressed, "campaign.campaign"),
        )

    def test_campaign_manager_screens(self):
        menus, _models, _pressed = self._check_role("manager")
        self.assertIn("campaign_manager.campaign_target_menu", menus, "the Configuration menu")
