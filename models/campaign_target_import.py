import base64
import binascii
import csv
import io
import time

from odoo import api, fields, models
from odoo.addons.phone_validation.tools import phone_validation
from odoo.exceptions import UserError
from odoo.tools import SQL, email_normalize

from .campaign_target import IMPORT_BATCH

IMPORT_MAX_ROWS = 200000
# Files up to this many rows are imported at once; bigger ones by the campaign job, in batches that
# commit and resume where they stopped.
IMPORT_SYNC_MAX = 2000
IMPORT_COLUMNS = ("name", "email", "phone", "street", "zip", "city", "country")
# A cell starting with one of these is a spreadsheet formula, never a name or a phone number.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class CampaignTarget(models.Model):
    """The import of a CSV file of contacts into a target: at once for a small file, by the campaign
    job in batches that commit and resume for a big one."""

    _inherit = "campaign.target"

    import_file = fields.Binary(string="File to Import", attachment=False, copy=False)
    import_filename = fields.Char(string="File Name", copy=False)
    import_summary = fields.Text(string="Last Import", readonly=True, copy=False)
    import_state = fields.Selection(
        selection=[("queued", "Importing"), ("done", "Imported"), ("failed", "Failed")],
        readonly=True,
        copy=False,
        help="Big files are imported in the background by the campaign job; the target cannot run before.",
    )
    import_done = fields.Integer(string="Rows Imported", readonly=True, copy=False)
    import_total = fields.Integer(string="Rows in File", readonly=True, copy=False)
    import_stats = fields.Json(readonly=True, copy=False)

    # ------------------------------------------------------------------
    # IMPORT
    # ------------------------------------------------------------------
    @api.model
    def _check_import_file_given(self, vals_list):
        """A file of no bytes (an empty text rather than no file) is refused as an empty file."""
        if any(vals.get("import_file") in ("", b"") for vals in vals_list):
            raise UserError(self.env._("The file is empty."))

    def action_import_file(self):
        """Import the contacts of a CSV file (name, email, phone, street, zip, city, country columns):
        existing contacts are matched by email (or phone), the others created, and all are added to
        the target. Big files are queued for the campaign job, which imports them in batches."""
        for target in self:
            if not target.import_file:
                raise UserError(self.env._("Choose a file to import first."))
            rows, headers = target._read_import_file()
            target.write(
                {
                    "source": "file",
                    "import_state": "queued",
                    "import_done": 0,
                    "import_total": len(rows),
                    "import_stats": {"ignored": [h for h in headers if h and h not in IMPORT_COLUMNS]},
                }
            )
            if len(rows) <= IMPORT_SYNC_MAX:
                target._import_next_batch(rows, len(rows), set())
            else:
                target.import_summary = target._import_progress_text()
                # triggering a cron only sets a date: no rights on the cron needed
                self.env.ref("campaign_manager.ir_cron_campaign_process").sudo()._trigger()
        return True

    def _read_import_file(self):
        """Decode the uploaded CSV into (rows as dicts of the known columns, lower-case headers); a
        clear error for anything that is not a CSV text file with an email or phone column."""
        self.ensure_one()
        data = self.import_file.encode() if isinstance(self.import_file, str) else self.import_file
        try:
            raw = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise UserError(
                self.env._(
                    "The file cannot be read as CSV (it arrived damaged): save it as CSV UTF-8 and send it again."
                )
            ) from error
        encodings = ("utf-16",) if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1252")
        for encoding in encodings:
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UserError(self.env._("The file is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8."))
        if "\x00" in text:
            raise UserError(self.env._("The file is not a CSV text file (it looks binary): save it as CSV UTF-8."))
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        try:
            reader = csv.DictReader(io.StringIO(text), dialect=dialect)
            if not reader.fieldnames:
                raise UserError(self.env._("The file is empty."))
            headers = [(h or "").strip().lower() for h in reader.fieldnames]
            if "email" not in headers and "phone" not in headers:
                raise UserError(
                    self.env._(
                        "The file needs an “email” or a “phone” column (found: %(columns)s).",
                        columns=", ".join(h for h in headers if h) or "-",
                    )
                )
            reader.fieldnames = headers
            rows = []
            for row in reader:
                rows.append({key: (value or "").strip() for key, value in row.items() if key in IMPORT_COLUMNS})
                if len(rows) > IMPORT_MAX_ROWS:
                    raise UserError(self.env._("The file has more than %(max)s rows: split it.", max=IMPORT_MAX_ROWS))
        except csv.Error as error:
            raise UserError(
                self.env._("The file cannot be read as CSV (%(error)s): save it as CSV UTF-8.", error=error)
            ) from error
        return rows, headers

    def _import_rows(self, rows, seen):
        """Match a slice of rows to contacts by normalised email, else sanitised phone (creating the
        missing ones, batched). ``seen`` holds the keys of the rows before the slice, to count
        duplicates inside the file. Returns (partner ids, counters)."""
        self.ensure_one()
        country_ids = self._import_country_ids()
        counters = {"matched": 0, "created": 0, "duplicates": 0, "skipped": 0, "bad_phone": 0, "formulas": 0}
        wanted = []
        for row in rows:
            email, phone = self._import_key(row, country_ids)
            if row.get("phone") and not phone:
                counters["bad_phone"] += 1
            if not email and not phone:
                counters["skipped"] += 1
                continue
            key = email or phone
            if key in seen:
                counters["duplicates"] += 1
                continue
            seen.add(key)
            values = {field: self._import_cell(row.get(field), counters) for field in ("name", "street", "zip", "city")}
            values.update(
                {
                    "name": values["name"] or email or phone,
                    "email": email,
                    "phone": phone,
                    "country_id": country_ids.get((row.get("country") or "").lower(), False),
                }
            )
            wanted.append(values)
        existing = self._import_existing(wanted)
        partner_ids = []
        to_create = []
        for values in wanted:
            partner_id = existing.get(values["email"] or values["phone"])
            if partner_id:
                partner_ids.append(partner_id)
            else:
                to_create.append(values)
        counters["matched"] = len(partner_ids)
        counters["created"] = len(to_create)
        for start in range(0, len(to_create), IMPORT_BATCH):
            partner_ids += self.env["res.partner"].create(to_create[start : start + IMPORT_BATCH]).ids
        return partner_ids, counters

    @api.model
    def _import_country_ids(self):
        # ~250 countries, read once per import
        rows = self.env["res.country"].search_read([], ["code", "name"])  # pylint: disable=no-search-all
        return {r["code"].lower(): r["id"] for r in rows} | {r["name"].lower(): r["id"] for r in rows}

    @api.model
    def _import_key(self, row, country_ids):
        """(normalised email, formatted phone) of a row, each False when not valid."""
        email = email_normalize(row.get("email") or "", strict=True) or False
        phone = self._import_phone(row.get("phone"), country_ids.get((row.get("country") or "").lower()))
        return email, phone

    @api.model
    def _import_cell(self, value, counters):
        """A text cell, with spreadsheet formulas neutralised (a quote keeps them inert)."""
        value = (value or "").strip()
        if value.startswith(FORMULA_PREFIXES):
            counters["formulas"] += 1
            return "'" + value
        return value or False

    @api.model
    def _import_phone(self, value, country_id):
        """The phone of a row, formatted, or False when it is not a phone number (a formula, text)."""
        value = (value or "").strip()
        digits = value.lstrip("+").replace(" ", "").replace(".", "").replace("-", "")
        if not value or not digits.isdigit() or len(digits) < 6 or value.startswith(("=", "@")):
            return False
        country = self.env["res.country"].browse(country_id) if country_id else self.env.company.country_id
        formatted = phone_validation.phone_format(
            value, country.code, country.phone_code, force_format="E164", raise_exception=False
        )
        return formatted or False

    def _import_existing(self, wanted):
        """{email or phone: partner id} of the existing contacts matching the rows (one query each)."""
        self.env["res.partner"].flush_model(["email_normalized", "phone_sanitized", "active"])
        existing = {}
        emails = tuple(values["email"] for values in wanted if values["email"])
        if emails:
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT ON (email_normalized) email_normalized, id FROM res_partner "
                    "WHERE email_normalized IN %s ORDER BY email_normalized, active DESC, id",
                    emails,
                )
            )
            existing.update(self.env.cr.fetchall())
        phones = tuple(values["phone"] for values in wanted if not values["email"])
        if phones:
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT ON (phone_sanitized) phone_sanitized, id FROM res_partner "
                    "WHERE phone_sanitized IN %s ORDER BY phone_sanitized, active DESC, id",
                    phones,
                )
            )
            existing.update(self.env.cr.fetchall())
        return existing

    def _import_next_batch(self, rows, size, seen):
        """Import the next ``size`` rows of the file after those already imported, link the contacts
        to the target and record the progress (one transaction: a crash redoes the whole batch).
        ``seen``: keys of the rows already imported (updated), to count duplicates across batches."""
        self.ensure_one()
        start = self.import_done
        partner_ids, counters = self._import_rows(rows[start : start + size], seen)
        if partner_ids:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """INSERT INTO campaign_target_partner_rel (target_id, partner_id)
                       SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING""",
                    self.id,
                    partner_ids,
                )
            )
            self.invalidate_recordset(["partner_ids"])
            self._invalidate_audience()
        stats = dict(self.import_stats or {})
        for key, value in counters.items():
            stats[key] = stats.get(key, 0) + value
        done = min(start + size, len(rows))
        values = {"import_done": done, "import_stats": stats}
        if done >= len(rows):
            values.update({"import_state": "done", "import_file": False})
        self.write(values)
        self.import_summary = self._import_progress_text()
        if done >= len(rows) and self.campaign_id:
            self.campaign_id.message_post(body=self.import_summary)

    def _import_progress_text(self):
        self.ensure_one()
        stats = self.import_stats or {}
        if self.import_state == "queued":
            return self.env._(
                "%(file)s: importing in the background, %(done)s of %(total)s rows done.",
                file=self.import_filename or "",
                done=self.import_done,
                total=self.import_total,
            )
        summary = self.env._(
            "%(file)s: %(rows)s rows, %(matched)s existing contacts, %(created)s created, "
            "%(duplicates)s duplicates in the file, %(skipped)s skipped without a valid email or phone, "
            "%(bad_phone)s invalid phone numbers, %(formulas)s formula cells neutralised.",
            file=self.import_filename or "",
            rows=self.import_total,
            matched=stats.get("matched", 0),
            created=stats.get("created", 0),
            duplicates=stats.get("duplicates", 0),
            skipped=stats.get("skipped", 0),
            bad_phone=stats.get("bad_phone", 0),
            formulas=stats.get("formulas", 0),
        )
        if stats.get("ignored"):
            summary += " " + self.env._("Columns not imported: %(columns)s.", columns=", ".join(stats["ignored"]))
        return summary

    @api.model
    def _process_queued_imports(self, deadline):
        """Scheduled job: import the queued files, batch after batch, each committed; a file resumes
        after the rows already imported."""
        commit = self.env["campaign.engine"]._commit_batch
        country_ids = self._import_country_ids()
        for queued in self.search([("import_state", "=", "queued")]):
            # the import summary is written in the campaign's language
            target = queued.with_context(lang=queued.campaign_id._job_lang())
            try:
                rows, _headers = target._read_import_file()
            except UserError as error:
                target.write({"import_state": "failed", "import_summary": str(error), "import_file": False})
                commit()
                continue
            seen = set()
            for row in rows[: target.import_done]:
                email, phone = self._import_key(row, country_ids)
                if email or phone:
                    seen.add(email or phone)
            while target.import_state == "queued" and time.monotonic() < deadline:
                with self.env["campaign.engine"]._batch():  # one transaction per batch
                    target._import_next_batch(rows, IMPORT_BATCH, seen)
