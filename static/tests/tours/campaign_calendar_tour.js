import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("campaign_calendar_tour", {
    steps: () => [
        {
            content: "Open the action from the campaign calendar",
            trigger: ".o_calendar_renderer .fc-event:contains(Tour email)",
            run: "click",
        },
        {
            content: "Open it",
            trigger: ".o_cw_popover .o_cw_popover_edit",
            run: "click",
        },
        {
            content: "The action itself is open",
            trigger: ".o_form_view .o_breadcrumb .active:contains(Tour email)",
        },
        {
            content: "Back to the calendar",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Calendar)",
            run: "click",
        },
        {
            content: "The reminder is on the calendar too",
            trigger: ".o_calendar_renderer .fc-event:contains(Tour reminder)",
        },
        {
            content: "Click a free day to plan something",
            trigger: ".fc-daygrid-day:not(.fc-day-other):not(.fc-day-today) .fc-daygrid-day-frame",
            run: "click",
        },
        {
            content: "Name the post",
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Tour post",
        },
        {
            content: "Open the networks",
            trigger: ".modal .o_field_widget[name=network] .o_select_menu_toggler, .modal .o_field_widget[name=network] input",
            run: "click",
        },
        {
            content: "Choose Facebook",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains(Facebook)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The post is on the calendar",
            trigger: ".o_calendar_renderer .fc-event:contains(Tour post)",
        },
    ],
});
