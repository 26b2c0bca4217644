import { registry } from "@web/core/registry";

/**
 * The company's marketing pressure caps, as a marketing manager sees them: a cap without a channel
 * counts every channel, and its row says so (it was a blank cell). ``label`` is what the row shows,
 * in the user's language.
 */
const capsListTour = (label, email) => () => [
    {
        content: "The caps' list is open",
        trigger: ".o_list_view .o_data_row",
    },
    {
        content: `The all-channel cap's row says "${label}"`,
        trigger: `.o_data_row:has(td[name="limit"]:contains(3)) td[name="channel"]:contains(${label})`,
    },
    {
        content: `The email cap's row still names its channel (${email})`,
        trigger: `.o_data_row:has(td[name="limit"]:contains(2)) td[name="channel"]:contains(${email})`,
    },
    {
        content: "No other row shows a blank channel",
        trigger: ".o_list_view",
        run() {
            const blank = [...document.querySelectorAll('.o_data_row td[name="channel"]')].filter(
                (cell) => !cell.textContent.trim()
            );
            if (blank.length) {
                throw new Error(`${blank.length} cap(s) show an empty channel`);
            }
        },
    },
    {
        content: "Edit the all-channel cap's row: the channel stays empty, with its placeholder",
        trigger: `.o_data_row:has(td[name="limit"]:contains(3)) td[name="period"]`,
        run: "click",
    },
    {
        content: "The editable cell offers the same words as a placeholder",
        trigger: `.o_selected_row td[name="channel"] input[placeholder="${label}"]`,
    },
];

registry.category("web_tour.tours").add("campaign_pressure_caps_list_tour", {
    steps: capsListTour("All channels", "Email"),
});
registry.category("web_tour.tours").add("campaign_pressure_caps_list_fr_tour", {
    steps: capsListTour("Tous les canaux", "Email"),
});
