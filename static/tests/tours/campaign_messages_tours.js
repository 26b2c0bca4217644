import { registry } from "@web/core/registry";

/** Launch a campaign "Immediately": the chatter says its actions start immediately. */
registry.category("web_tour.tours").add("campaign_launch_note_tour", {
    steps: () => [
        {
            content: "Launch the campaign",
            trigger: ".o_form_view .o_form_statusbar button[name=action_launch]",
            run: "click",
        },
        {
            content: "Immediately is chosen",
            trigger: ".modal .o_field_widget[name=mode] input[data-value=now]:checked",
        },
        {
            content: "Launch",
            trigger: ".modal footer button[name=action_launch]",
            run: "click",
        },
        {
            content: "The chatter says what happened, not 'as planned on each action'",
            trigger:
                "body:not(:has(.modal)) .o-mail-Chatter .o-mail-Message:contains(Campaign launched: its actions start immediately.)",
        },
        {
            content: "and nothing else about the launch",
            trigger: ".o-mail-Chatter:not(:has(.o-mail-Message:contains(as planned on each action)))",
        },
    ],
});

/** The email of an action, opened from the action: it says who receives it, not "0 records". */
registry.category("web_tour.tours").add("campaign_content_recipients_tour", {
    steps: () => [
        {
            content: "Edit the email of the action",
            trigger: ".o_form_view .o_form_statusbar button[name=action_edit_email]",
            run: "click",
        },
        {
            content: "The mailing says who receives it",
            trigger:
                ".o_form_view .o_field_widget[name=campaign_recipients]:contains(The contacts of the action “Winter email” of the campaign TourWinter)",
        },
        {
            content: "and shows no recipients count of its own",
            trigger: ".o_form_view:not(:has(.o_field_widget[name=mailing_domain])):not(:has(.o_field_widget[name=mailing_model_id]))",
        },
    ],
});

/** The analysis of an email campaign opens on its message figures. */
registry.category("web_tour.tours").add("campaign_analysis_tour", {
    steps: () => [
        {
            content: "The smart buttons of the campaign",
            trigger: ".o_form_view .o-form-buttonbox",
            run() {
                // the Analysis button is under "More" when the buttons do not all fit
                const more = document.querySelector(".o-form-buttonbox .o_button_more");
                if (more && !document.querySelector(".o-form-buttonbox button[name=action_view_analysis]")) {
                    more.click();
                }
            },
        },
        {
            content: "Open the analysis of the campaign",
            trigger: "button[name=action_view_analysis]",
            run: "click",
        },
        {
            content: "The pivot shows the emails sent",
            trigger: ".o_pivot .o_pivot_measure_row:contains(Sent)",
        },
        {
            content: "with their open rate",
            trigger: ".o_pivot .o_pivot_measure_row:contains(Open Rate (%))",
        },
        {
            content: "per action",
            trigger: ".o_pivot th.o_pivot_header_cell_closed:contains(Winter email)",
        },
        {
            content: "and no column of costs (all zero for this campaign)",
            trigger: ".o_pivot:not(:has(.o_pivot_measure_row:contains(Actual Cost)))",
        },
        {
            content: "the rate of the action: 1 open of 2 sent",
            trigger: ".o_pivot td.o_pivot_cell_value:contains(50.00)",
        },
    ],
});
