import { registry } from "@web/core/registry";
import { SelectionField, selectionField } from "@web/views/fields/selection/selection_field";

/**
 * A selection whose empty value means something (a pressure cap without a channel counts every
 * channel): read-only, Odoo's selection shows nothing for it, so the list's rows left the cell
 * blank. This one shows the field's placeholder instead, as the editable cell already does.
 */
export class CampaignSelectionField extends SelectionField {
    get string() {
        const string = super.string;
        return string || (this.props.readonly && this.props.placeholder) || string;
    }
}

registry.category("fields").add("campaign_selection_placeholder", {
    ...selectionField,
    component: CampaignSelectionField,
});
