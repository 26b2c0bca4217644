import { registry } from "@web/core/registry";
import { charField } from "@web/views/fields/char/char_field";

/**
 * The name of a campaign or an action in a list (its own name, or the campaign or action a row
 * belongs to): never squeezed below the width of a usual name. When the columns do not fit, Odoo
 * shrinks every text column alike, and names came out as "Newslett…" next to figures shown in full;
 * these columns still grow with the room left, like any text column.
 */
const NAME_MIN_WIDTH = 190;
// An email address or a phone number in such a list (where a journey's test step went: the
// addresses came out as "camille.mark…"): as wide as an address of some 40 characters.
const ADDRESS_MIN_WIDTH = 320;

const fields = registry.category("fields");
fields.add("campaign_name", { ...charField, listViewWidth: [NAME_MIN_WIDTH] });
fields.add("campaign_many2one_name", { ...fields.get("many2one"), listViewWidth: [NAME_MIN_WIDTH] });
fields.add("campaign_address", { ...charField, listViewWidth: [ADDRESS_MIN_WIDTH] });
