import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/** An SMS action opens with its opt-out link on: its text, the SMS counter, then saved without the link. */
registry.category("web_tour.tours").add("campaign_sms_action_tour", {
    steps: () => [
        {
            content: "The SMS text is shown in the SMS widget",
            trigger: ".o_form_view .o_field_widget[name=sms_body] textarea",
        },
        {
            content: "with its character and SMS counter",
            trigger: ".o_form_view .o_field_widget[name=sms_body] .o_sms_count:contains(SMS)",
        },
        {
            content: "Write the SMS",
            trigger: ".o_form_view .o_field_widget[name=sms_body] textarea",
            run: "edit Hello {{ object.name }}, the tour offer ends tonight.",
        },
        {
            content: "Leave the opt-out link out",
            trigger: ".o_form_view .o_field_widget[name=sms_opt_out_link] input:checked",
            run: "click",
        },
        ...stepUtils.saveForm(),
    ],
});
