import { onWillStart } from "@odoo/owl";
import { CalendarController } from "@web/views/calendar/calendar_controller";
import { calendarView } from "@web/views/calendar/calendar_view";
import { registry } from "@web/core/registry";

/**
 * The campaign calendar shows actions and calendar items (social posts, SMS, reminders) through the
 * read-only model campaign.calendar.entry: opening an entry opens the action or the item itself, and
 * clicking a free day plans a new calendar item there.
 */
export class CampaignCalendarEntryController extends CalendarController {
    setup() {
        super.setup();
        this.canPlanItems = false;
        onWillStart(async () => {
            this.canPlanItems = await this.orm.call("campaign.calendar.item", "has_access", [[], "create"]);
        });
    }

    createRecord(record) {
        // entries cannot be created: a click on a day plans a calendar item instead
        if (this.canPlanItems) {
            return this.editRecordInCreation(record);
        }
    }

    async editRecord(record, context = {}) {
        const options = { onClose: () => this.model.load() };
        if (record.id) {
            const action = await this.orm.call("campaign.calendar.entry", "action_open", [[record.id]]);
            return this.action.doAction(action, options);
        }
        const additionalContext = {};
        for (const key of ["default_date_start", "default_date_stop", "default_name"]) {
            if (context[key]) {
                additionalContext[key] = context[key];
            }
        }
        return this.action.doAction("campaign_manager.campaign_calendar_item_action_new", {
            ...options,
            additionalContext,
        });
    }
}

registry.category("views").add("campaign_calendar_entry", {
    ...calendarView,
    Controller: CampaignCalendarEntryController,
});
