import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/** The order (a screen of its own, not a dialog) shows the step ``step``: every step waits for it. */
const atStep = (step) => ({
    content: `The order is at the step ${step}`,
    trigger: `body:not(:has(.modal)) .o_form_view .o_statusbar_status button[data-value="${step}"][aria-checked="true"]`,
});
const next = (label = "Next") => ({
    content: `Click ${label}`,
    trigger: `.o_form_view .o_form_statusbar button[name="action_next"]:contains(${label})`,
    run: "click",
});

/** Pick the tour's contact by hand and add it as a target of the campaign. */
const pickAndAdd = () => [
    {
        content: "Pick a contact",
        trigger: '.o_form_view div[name="partner_ids"] input',
        run: "edit Tour Contact",
    },
    {
        content: "Choose it",
        trigger: ".o_form_view .ui-autocomplete a:contains(Tour Contact One)",
        run: "click",
    },
    {
        content: "It is picked",
        trigger: '.o_form_view div[name="partner_ids"] .o_tag:contains(Tour Contact One)',
    },
    {
        content: "Add it to the targets",
        trigger: '.o_form_view button[name="action_add_targets"]',
        run: "click",
    },
    {
        content: "The target is listed, with its contact counted",
        trigger: '.o_form_view div[name="target_ids"] td[name="recipient_count"]:contains(1)',
    },
    {
        content: "The Calculate figures count it",
        trigger: '.o_form_view div[name="audience_final"]:contains(1)',
    },
];

registry.category("web_tour.tours").add("campaign_order_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Campaigns app",
            trigger: '.o_app[data-menu-xmlid="campaign_manager.campaign_manager_menu_root"]',
            run: "click",
        },
        {
            content: "Open the Campaigns menu",
            trigger: '.o_main_navbar [data-menu-xmlid="campaign_manager.campaign_campaign_menu_main"]',
            run: "click",
        },
        {
            content: "Order a Campaign",
            trigger: '.dropdown-item[data-menu-xmlid="campaign_manager.campaign_campaign_order_menu"]',
            run: "click",
        },
        // 1. Summary
        atStep("summary"),
        next("Get Started"),
        // 2. Create and name
        atStep("name"),
        {
            content: "Name the campaign",
            trigger: '.o_form_view div[name="name"] input',
            run: "edit TourSpring",
        },
        next("Create"),
        // 3. Contacts: a hand pick, removed once and added again
        atStep("contacts"),
        ...pickAndAdd(),
        {
            content: "Remove the target",
            trigger: '.o_form_view div[name="target_ids"] button[name="action_remove_from_order"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The target is gone",
            trigger: '.o_form_view:not(:has(div[name="target_ids"] td[name="recipient_count"])) div[name="audience_final"]:contains(0)',
        },
        ...pickAndAdd(),
        next(),
        // 4. Media: an email action with a template
        atStep("media"),
        {
            content: "Choose the email template",
            trigger: '.o_form_view div[name="new_mail_template_id"] input',
            run: "edit Tour Template",
        },
        {
            content: "Pick it",
            trigger: ".o_form_view .ui-autocomplete a:contains(Tour Template)",
            run: "click",
        },
        {
            content: "Add the email action",
            trigger: '.o_form_view button[name="action_add_action"]',
            run: "click",
        },
        {
            content: "The email action is listed, complete",
            trigger: '.o_form_view div[name="line_ids"] tr.text-success td[name="channel"]:contains(Email)',
        },
        next(),
        // 5. Schedule: immediately
        atStep("schedule"),
        {
            content: "Send immediately",
            trigger: '.o_form_view div[name="schedule_mode"] input[data-value="now"]',
            run: "click",
        },
        next(),
        // 6. Launch
        atStep("launch"),
        {
            content: "Nothing is missing",
            trigger: ".o_form_view .alert-success",
        },
        {
            content: "The action's audience is shown",
            trigger: '.o_form_view div[name="launch_line_ids"] td[name="final"]:contains(1)',
        },
        {
            content: "Launch",
            trigger: '.o_form_view .o_form_statusbar button[name="action_launch"]',
            run: "click",
        },
        {
            content: "The campaign form shows the campaign active",
            trigger:
                'body:not(:has(.modal)) .o_form_view .o_statusbar_status button[data-value="active"][aria-checked="true"]',
        },
    ],
});
