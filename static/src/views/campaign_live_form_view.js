import { onWillDestroy } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { CampaignButtonBox } from "./campaign_button_box";

const RUNS_CHANGED = "campaign_manager/runs_changed";
const RELOAD_DEBOUNCE_DELAY = 300;

/**
 * The campaign and action forms follow the job: when it starts or finishes a run of the record on
 * screen (it does so a moment after *Launch*), the form reloads, so that its smart buttons (runs,
 * touchpoints) and figures are those of the database, not 0 until the page is reloaded. A form
 * with unsaved changes is left alone: reloading it would lose them. Their smart buttons leave the
 * breadcrumbs room (CampaignButtonBox).
 */
export class CampaignLiveFormController extends FormController {
    static components = { ...FormController.components, ButtonBox: CampaignButtonBox };

    setup() {
        super.setup();
        const busService = useService("bus_service");
        this.reloadDebounced = useDebounced(() => this.reloadIfClean(), RELOAD_DEBOUNCE_DELAY);
        this.onRunsChanged = this.onRunsChanged.bind(this);
        busService.subscribe(RUNS_CHANGED, this.onRunsChanged);
        onWillDestroy(() => busService.unsubscribe(RUNS_CHANGED, this.onRunsChanged));
    }

    onRunsChanged({ campaign_ids = [], action_ids = [] }) {
        // notifications may come before the record is loaded (sent before the page opened)
        const resId = this.model.root?.resId;
        const ids = this.props.resModel === "campaign.action" ? action_ids : campaign_ids;
        if (resId && ids.includes(resId)) {
            this.reloadDebounced();
        }
    }

    async reloadIfClean() {
        const root = this.model.root;
        if (root?.resId && !(await root.isDirty())) {
            await root.load();
        }
    }
}

registry.category("views").add("campaign_live_form", {
    ...formView,
    Controller: CampaignLiveFormController,
});
