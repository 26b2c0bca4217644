import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

/**
 * Launch a campaign, then watch its form while the job starts its run: the smart buttons show the
 * run and its touchpoints without the page being reloaded.
 */
registry.category("web_tour.tours").add("campaign_live_counters_tour", {
    steps: () => [
        {
            content: "Mark this page: a reload would lose the mark",
            trigger: ".o_form_view .o_form_statusbar button[name=action_launch]",
            run() {
                window.campaignLivePage = true;
            },
        },
        {
            content: "Launch the campaign",
            trigger: ".o_form_view .o_form_statusbar button[name=action_launch]",
            run: "click",
        },
        {
            content: "Launch immediately",
            trigger: ".modal footer button[name=action_launch]",
            run: "click",
        },
        {
            content: "The campaign is launched; the job has not started its run yet",
            trigger:
                "body:not(:has(.modal)) .o_form_view:not(:has(button[name=action_view_runs])) .o-mail-Chatter .o-mail-Message:contains(Campaign launched)",
            async run() {
                // tells the test, which plays the job, that the screen was seen before the run started
                const resId = parseInt(window.location.pathname.split("/").pop());
                await rpc("/web/dataset/call_kw/campaign.campaign/message_post", {
                    model: "campaign.campaign",
                    method: "message_post",
                    args: [[resId]],
                    kwargs: { body: "Counters seen before the run" },
                });
            },
        },
        {
            content: "The run appears on the form by itself",
            trigger: ".o_form_view button[name=action_view_runs] .o_stat_value:contains(1)",
            // the test's thread plays the whole job (resolution, rendering, commit) before the bus
            // tells the form: on a loaded 2-core machine that took more than the default 10 s
            timeout: 30000,
        },
        {
            content: "with its two touchpoints",
            trigger: ".o_form_view button[name=action_view_touchpoints] .o_stat_value:contains(2)",
        },
        {
            content: "and the page was not reloaded",
            trigger: ".o_form_view",
            run() {
                if (!window.campaignLivePage) {
                    throw new Error("the page was reloaded: the counters did not follow the job by themselves");
                }
            },
        },
    ],
});
