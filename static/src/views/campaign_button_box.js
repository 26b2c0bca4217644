import { onWillRender } from "@odoo/owl";
import { ButtonBox } from "@web/views/form/button_box/button_box";

// Smart buttons shown in the control panel of the campaign and action forms, "More" included: on
// wide screens Odoo shows up to 8, which leaves the breadcrumbs ("Campaigns / <campaign> /
// <action>") a few letters; with 5, the breadcrumbs keep their names at every width from 1,200 px,
// as at the widths where Odoo shows 5 anyway.
export const MAX_VISIBLE_SMART_BUTTONS = 5;

export class CampaignButtonBox extends ButtonBox {
    setup() {
        // registered before ButtonBox's own hook, so that it runs after it (OWL runs the hooks
        // registered last first): it only narrows ButtonBox's split
        onWillRender(() => {
            const buttons = [...this.visibleButtons, ...this.additionalButtons];
            if (this.visibleButtons.length + (this.additionalButtons.length ? 1 : 0) <= MAX_VISIBLE_SMART_BUTTONS) {
                return;
            }
            const splitIndex = MAX_VISIBLE_SMART_BUTTONS - 1; // the last place is "More"
            this.visibleButtons = buttons.slice(0, splitIndex);
            this.additionalButtons = buttons.slice(splitIndex);
            this.isFull = true;
        });
        super.setup();
    }
}
