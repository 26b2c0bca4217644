import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("campaign_record_outcome_tour", {
    steps: () => [
        {
            content: "Record the outcome of the planned call",
            trigger: ".o_form_view button[name=action_record_outcome].btn-primary",
            run: "click",
        },
        {
            content: "The fields of the touchpoint type are there",
            trigger: ".modal .o_property_field[property-name=answer] select",
            run: "select yes",
        },
        {
            content: "Amount promised",
            trigger: ".modal .o_property_field[property-name=amount] input",
            run: "edit 1500",
        },
        {
            content: "Leave the field",
            trigger: ".modal .modal-title",
            run: "click",
        },
        {
            content: "The amount is taken",
            trigger: ".modal .o_property_field[property-name=amount] input:value(1,500.00)",
        },
        {
            content: "Next step",
            trigger: ".modal .o_property_field[property-name=next_step] input",
            run: "edit Send the contract",
        },
        {
            content: "Leave the field",
            trigger: ".modal .modal-title",
            run: "click",
        },
        {
            content: "The next step is taken",
            trigger: ".modal .o_property_field[property-name=next_step] input:value(Send the contract)",
        },
        {
            content: "A note",
            trigger: ".modal .o_field_widget[name=note] textarea",
            run: "edit Keen on the season passes",
        },
        {
            content: "Record",
            trigger: ".modal button[name=action_record]",
            run: "click",
        },
        {
            content: "Back on the touchpoint, recorded",
            trigger: "body:not(:has(.modal)) .o_form_view .o_field_widget[name=recorded_by_id]:contains(Administrator)",
        },
    ],
});

registry.category("web_tour.tours").add("campaign_choose_kpis_tour", {
    steps: () => [
        {
            content: "The usual figures are shown",
            trigger: ".o_form_view .o_field_widget[name=kpi_banner]:contains(Reachable now)",
        },
        {
            content: "Choose the figures",
            trigger: ".o_form_view button[name=action_choose_kpis]",
            run: "click",
        },
        {
            content: "Open the first figure",
            trigger: ".modal .o_field_widget[name=metric_1] .o_select_menu_toggler, .modal .o_field_widget[name=metric_1] input",
            run: "click",
        },
        {
            content: "Budget first",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains(Budget)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".modal button[name=action_save]",
            run: "click",
        },
        {
            content: "The budget is highlighted",
            trigger: ".o_form_view .o_field_widget[name=kpi_banner]:contains(Budget):not(:contains(Reachable now))",
        },
    ],
});

registry.category("web_tour.tours").add("campaign_touchpoint_type_tour", {
    steps: () => [
        {
            content: "The fields to fill are shown on the type",
            trigger: ".o_form_view .o_field_widget[name=outcome_preview] .o_property_field:contains(Amount promised)",
        },
        {
            content: "A manager can add fields",
            trigger: ".o_form_view .o_field_widget[name=outcome_preview] .o_field_property_add button",
        },
    ],
});
