import { registry } from "@web/core/registry";

/**
 * Show a record in place of the screen that led to it, e.g. the campaign once its order is launched:
 * back to the record's own form when that screen was opened from it (the form is then read again, so
 * its figures and smart buttons are up to date), else instead of that screen in the breadcrumb.
 *
 * params.action: the window action opening the record; params.back: go back to the previous screen.
 */
async function campaignShowRecord(env, action) {
    const { action: next, back } = action.params || {};
    const actionService = env.services.action;
    const breadcrumbs = actionService.currentController?.config.breadcrumbs || [];
    if (back && breadcrumbs.length > 1) {
        return actionService.restore(breadcrumbs.at(-2).jsId);
    }
    return actionService.doAction(next, { stackPosition: "replaceCurrentAction" });
}

registry.category("actions").add("campaign_manager.show_record", campaignShowRecord);
