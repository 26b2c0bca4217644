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

/** Pick a contact by hand and add it as a target of the campaign, named ``name``. */
const pickAndAdd = (contact, name, count) => [
    {
        content: "Name the target",
        trigger: '.o_form_view div[name="target_name"] input',
        run: `edit ${name}`,
    },
    {
        content: "Pick a contact",
        trigger: '.o_form_view div[name="partner_ids"] input',
        run: `edit ${contact}`,
    },
    {
        content: "Choose it",
        trigger: `.o_form_view .ui-autocomplete a:contains(${contact})`,
        run: "click",
    },
    {
        content: "It is picked",
        trigger: `.o_form_view div[name="partner_ids"] .o_tag:contains(${contact})`,
    },
    {
        content: "Add it to the targets",
        trigger: '.o_form_view button[name="action_add_targets"]',
        run: "click",
    },
    {
        content: "The target is listed, with its contact counted",
        trigger: `.o_form_view div[name="target_ids"] tr:has(td[name="name"]:contains(${name})) td[name="recipient_count"]:contains(1)`,
    },
    {
        content: "The Calculate figures count the contacts of every target",
        trigger: `.o_form_view div[name="final"]:contains(${count})`,
    },
];

/** Add an action of the channel ``label`` from the Media step. */
const addAction = (label) => [
    {
        content: "Open the channels",
        trigger: '.o_form_view div[name="new_channel"] .o_select_menu_toggler, .o_form_view div[name="new_channel"] input',
        run: "click",
    },
    {
        content: `Choose ${label}`,
        trigger: `.o_select_menu_menu .o_select_menu_item:contains(${label})`,
        run: "click",
    },
    {
        content: `${label} is chosen`,
        trigger: `.o_form_view div[name="new_channel"]:contains(${label}), .o_form_view div[name="new_channel"] input:value(${label})`,
    },
    {
        content: `Add the ${label} action`,
        trigger: '.o_form_view button[name="action_add_action"]',
        run: "click",
    },
    {
        content: `The ${label} action is listed, still to complete`,
        trigger: `.o_form_view div[name="line_ids"] tr.text-warning td[name="channel"]:contains(${label})`,
    },
];

/** Open the action of the channel ``label`` from the Media step, fill it with ``steps``, save it
 * and go back to the order with "Resume Order". */
const completeAction = (label, steps) => [
    {
        content: `Open the ${label} action`,
        trigger: `.o_form_view div[name="line_ids"] tr:has(td[name="channel"]:contains(${label})) button[name="action_open"]`,
        run: "click",
    },
    {
        content: `The ${label} action's form is open`,
        trigger: `.o_form_view .o_form_sheet .o_field_widget[name="channel"] input:value(${label})`,
    },
    ...steps,
    {
        content: "Back to the order (the action is saved first)",
        trigger: '.o_form_view .o_statusbar_buttons button[name="action_resume_order"]',
        run: "click",
    },
    atStep("media"),
    {
        content: `The ${label} action is complete`,
        trigger: `.o_form_view div[name="line_ids"] tr.text-success td[name="channel"]:contains(${label})`,
    },
];

/** Write ``text`` in the HTML field ``name`` (Odoo's HTML editor, not Email Marketing's). */
const writeHtml = (name, text) => [
    {
        content: `Write in ${name}`,
        trigger: `.o_form_view .o_field_widget[name="${name}"] .odoo-editor-editable > :first-child`,
        run: `editor ${text}`,
    },
    {
        content: `${name} holds the text`,
        trigger: `.o_form_view .o_field_widget[name="${name}"] .odoo-editor-editable:contains(${text})`,
    },
];

/** Open the smart button ``name`` of the form, from the button box's "More" menu when it is there. */
export const openSmartButton = (name, label) => [
    {
        content: `Show ${label} (under "More" when the button box is full)`,
        trigger: ".o_action_manager .o_form_view .o-form-buttonbox",
        run() {
            const box = document.querySelector(".o_action_manager .o_form_view .o-form-buttonbox");
            if (!box.querySelector(`:scope > button[name="${name}"]`)) {
                box.querySelector(".o_button_more").click();
            }
        },
    },
    {
        content: `Open ${label}`,
        trigger: `.o_action_manager .o_form_view .o-form-buttonbox > button[name="${name}"], .o_dropdown_more button[name="${name}"]`,
        run: "click",
    },
];

/** From the Campaigns menu, a campaign of two targets and five channels ordered step by step and
 * launched: an email (from a template), an SMS, a letter, a landing page and a webhook. */
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
        // 3. Contacts: a hand pick, removed once and added again, then a second one
        atStep("contacts"),
        ...pickAndAdd("Tour Contact One", "First pick", 1),
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
            trigger: '.o_form_view:not(:has(div[name="target_ids"] td[name="recipient_count"])) div[name="final"]:contains(0)',
        },
        ...pickAndAdd("Tour Contact One", "First pick", 1),
        ...pickAndAdd("Tour Contact Two", "Second pick", 2),
        next(),
        // 4. Media: an email from a template, then an SMS, a letter, a landing page and a webhook
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
        ...addAction("SMS"),
        ...addAction("Letter"),
        ...addAction("Landing page"),
        ...addAction("Webhook"),
        ...completeAction("SMS", [
            {
                content: "Write the SMS",
                trigger: '.o_form_view .o_field_widget[name="sms_body"] textarea',
                run: "edit Spring offers for you: see your email.",
            },
        ]),
        ...completeAction("Letter", writeHtml("letter_body", "Our spring offers are in the shop.")),
        ...completeAction("Landing page", [
            {
                content: "Title the page",
                trigger: '.o_form_view .o_field_widget[name="landing_title"] input',
                run: "edit Your spring offer",
            },
            ...writeHtml("landing_body", "Welcome to your spring offer."),
        ]),
        ...completeAction("Webhook", [
            {
                content: "The address to post the contacts to",
                trigger: '.o_form_view .o_field_widget[name="webhook_url"] input',
                run: "edit https://hooks.example.com/spring",
            },
        ]),
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
            content: "Each action's audience is shown: both contacts for the webhook too",
            trigger:
                '.o_form_view div[name="launch_line_ids"] tr:has(td[name="channel"]:contains(Webhook)) td[name="final"]:contains(2)',
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

/** The campaign once its actions ran: its Calculate figures, then its Execution Info. */
registry.category("web_tour.tours").add("campaign_order_results_tour", {
    url: "/odoo/action-campaign_manager.campaign_campaign_action",
    steps: () => [
        {
            content: "Open the campaign from the list",
            trigger: '.o_list_view .o_data_row td[name="name"]:contains(TourSpring)',
            run: "click",
        },
        {
            content: "Calculate",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_calculate"]',
            run: "click",
        },
        {
            content: "The figures: both contacts are reached by email",
            trigger: '.modal div[name="final"]:contains(2)',
        },
        {
            content: "Close",
            trigger: ".modal .modal-footer button:contains(Close)",
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal-dialog)) .o_action_manager .o_form_view",
        },
        ...openSmartButton("action_view_runs", "Execution Info"),
        {
            content: "The webhook's run reached both contacts",
            trigger:
                '.o_list_view .o_data_row:has(td[name="channel"]:contains(Webhook)) td[name="carried_count"]:contains(2)',
        },
        {
            content: "The letters' run is done",
            trigger: '.o_list_view .o_data_row:has(td[name="channel"]:contains(Letter)) td[name="state"]:contains(Done)',
        },
        {
            content: "Open the email's run",
            trigger: '.o_list_view .o_data_row td[name="channel"]:contains(Email)',
            run: "click",
        },
        {
            content: "Its figures",
            trigger: '.o_form_view .o_field_widget[name="planned_count"]:contains(2)',
        },
    ],
});
