import { registry } from "@web/core/registry";
import { charField } from "@web/views/fields/char/char_field";

/**
 * The name of a campaign or an action in a list (its own name, or the campaign or action a row
 * belongs to): never squeezed below the width of a usual name. When the columns do not fit, Odoo
 * shrinks every text column alike, and names came out as "Newslett…" next to figures shown in full;
 * these columns still grow with the room left, like any text column.
 */
const NAME_MIN_WIDTH = 190;

const fields = registry.category("fields");
fields.add("campaign_name", { ...charField, listViewWidth: [NAME_MIN_WIDTH] });
fields.add("campaign_many2one_name", { ...fields.get("many2one"), listViewWidth: [NAME_MIN_WIDTH] });
