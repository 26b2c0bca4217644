import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

/**
 * The journey as a tree (issue 14): the Journey tab of a campaign shows each follow-up under the
 * action it follows with its live counts, in the user's language; "Add a follow-up" creates an
 * action there; a node's name opens its action. Run as a user holding only Marketing Campaigns / User.
 */
const LABELS = {
    en: { waiting: "Waiting", tab: "Journey", add: "Add a follow-up", split: "Split", yes: "Yes" },
    fr: { waiting: "En attente", tab: "Parcours", add: "Ajouter une relance", split: "Embranchement", yes: "Oui" },
};
const labels = () => LABELS[(user.lang || "en").slice(0, 2)] || LABELS.en;

/** The card of the action named ``name`` (the one of its own node, not of a follow-up). */
const card = (name) => `.o_journey_card:has(> .card-body .o_journey_open:contains(${name}))`;

const expect = (content, trigger, check) => ({
    content,
    trigger,
    run() {
        const problem = check(this.anchor);
        if (problem) {
            throw new Error(`${content}: ${problem}`);
        }
    },
});

registry.category("web_tour.tours").add("campaign_journey_tree_tour", {
    steps: () => [
        {
            content: "Open the Journey tab",
            trigger: ".o_form_view .o_notebook .nav-link[name='journey']",
            run: "click",
        },
        expect("The tab is named in the user's language", ".o_notebook .nav-link[name='journey']", (el) =>
            el.textContent.trim() === labels().tab ? "" : `"${el.textContent.trim()}"`
        ),
        expect("The teaser's counts", `${card("Teaser")} .o_journey_counts`, (el) => {
            const count = (cls) => el.querySelector(`.${cls} b`).textContent.trim();
            const got = ["waiting", "done", "excluded", "converted", "failed"].map((k) => count(`o_journey_${k}`));
            return got.join(",") === "1,5,2,1,1" ? "" : `counts ${got}`;
        }),
        expect("Counts labelled in the user's language", `${card("Teaser")} .o_journey_waiting`, (el) =>
            el.textContent.includes(labels().waiting) ? "" : `"${el.textContent}"`
        ),
        expect("Both exclusion reasons are shown", `${card("Teaser")} .o_journey_reasons`, (el) =>
            el.querySelectorAll("span").length === 2 ? "" : `"${el.textContent}"`
        ),
        {
            content: "The reminder is drawn under the teaser, with its delay and condition",
            trigger: `.o_journey_node:has(${card("Teaser")}) > .o_journey_level ${card("Reminder")} .o_journey_when:contains(Teaser)`,
        },
        expect("The teaser shows its split on the country", `${card("Teaser")} .o_journey_split`, (el) =>
            el.textContent.includes(labels().split) && el.textContent.includes("France") ? "" : `"${el.textContent}"`
        ),
        expect("The reminder is the yes branch", `${card("Reminder")} .o_journey_branch`, (el) =>
            el.textContent.trim() === labels().yes ? "" : `"${el.textContent.trim()}"`
        ),
        {
            content: "The letter is a journey of its own (no parent)",
            trigger: `.o_campaign_journey_tree > .o_journey_level > .o_journey_node > ${card("Letter")}`,
        },
        {
            content: "Add a follow-up to the reminder",
            trigger: `${card("Reminder")} .o_journey_add`,
            run: "click",
        },
        {
            content: "Name the follow-up",
            trigger: ".modal .o_form_view div[name='name'] input",
            run: "edit Last call",
        },
        {
            content: "It follows the reminder, on the campaign's channel",
            trigger: ".modal .o_form_view div[name='parent_id'] input:value(Reminder)",
        },
        {
            content: "Save it",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The follow-up appears under the reminder",
            trigger: `body:not(:has(.modal)) .o_journey_node:has(${card("Reminder")}) > .o_journey_level ${card("Last call")}`,
        },
        {
            content: "Open the reminder from its node",
            trigger: `${card("Reminder")} .o_journey_open`,
            run: "click",
        },
        {
            content: "The reminder's form is open",
            trigger: ".o_form_view div[name='name'] input:value(Reminder)",
        },
    ],
});
