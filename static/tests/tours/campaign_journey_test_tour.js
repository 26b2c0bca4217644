import { registry } from "@web/core/registry";

/**
 * The test mode of a journey, as a plain campaign user: one step carried out for a test contact,
 * and the steps' list shows each step's name and the address it went to in full (long action names
 * were cut to "Call the custo…", addresses to "camille.mark…").
 */
registry.category("web_tour.tours").add("campaign_journey_test_steps_tour", {
    steps: () => [
        {
            content: "Open the campaign's journey",
            trigger: '.o_form_view .o_notebook a[name="journey"]',
            run: "click",
        },
        {
            content: "Test the journey",
            trigger: '.o_form_view button[name="action_test_journey"]',
            run: "click",
        },
        {
            content: "Choose the test contact",
            trigger: '.modal div[name="partner_id"] input',
            run: "edit Tess Tester",
        },
        {
            content: "Pick the contact in the list",
            trigger: ".modal .o-autocomplete--dropdown-item a:contains(Tess Tester)",
            run: "click",
        },
        {
            content: "Send the test messages to a long address",
            trigger: '.modal div[name="email_to"] input',
            run: "edit marketing.campaign.tester@example.com",
        },
        {
            content: "Carry out the first step (the task)",
            trigger: '.modal button[name="action_next_step"]',
            run: "click",
        },
        {
            content: "The step done is listed",
            trigger: '.modal div[name="line_ids"] td[name="action_id"]:contains(Call the customers)',
        },
        {
            content: "Carry out the next step (the email)",
            trigger: '.modal button[name="action_next_step"]',
            run: "click",
        },
        {
            content: "The email is listed, with the address it went to",
            trigger: '.modal div[name="line_ids"] td[name="recipient"]:contains(marketing.campaign.tester@example.com)',
        },
        {
            content: "The steps' names and addresses are shown in full",
            trigger: '.modal div[name="line_ids"] td[name="action_id"]',
            run() {
                const cells = ["action_id", "recipient"].map((name) => `.modal div[name="line_ids"] td[name="${name}"]`);
                const cut = [...document.querySelectorAll([...cells, ...cells.map((cell) => `${cell} span`)].join(", "))]
                    .filter((el) => el.offsetParent && el.scrollWidth > el.clientWidth + 1)
                    .map((el) => el.textContent.trim());
                if (cut.length) {
                    throw new Error(`The steps' list cuts: ${cut.join(", ")}`);
                }
            },
        },
    ],
});
