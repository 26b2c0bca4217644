import { registry } from "@web/core/registry";

/**
 * The first hour of a marketing user (issue 16): each tour walks one screen a new campaign user meets
 * and checks, in the page, what it shows. Run as a user holding only Marketing Campaigns / User.
 */

/** The order (in the main area, not a dialog) is at the step ``step``. */
const orderAt = (step) => ({
    content: `The order is at the step ${step}, in the main area`,
    trigger: `body:not(:has(.modal)) .o_form_view .o_statusbar_status button[data-value="${step}"][aria-checked="true"]`,
});

/** Fail the tour unless ``check()`` is true (the tour's message says what was expected). */
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

/** The texts of the elements matching ``selector`` that do not fit their box (cut with an ellipsis). */
const cutTexts = (selector) =>
    [...document.querySelectorAll(selector)]
        .filter((el) => el.offsetParent && el.scrollWidth > el.clientWidth + 1)
        .map((el) => el.textContent.trim());

/** The targets' list of the campaign form: no value cut (their source, kind and reach in full). */
const targetsNotCut = (content) =>
    expect(content, '.o_form_view div[name="target_ids"] td[name="source"]', () =>
        cutTexts('.o_form_view div[name="target_ids"] td.o_data_cell, .o_form_view div[name="target_ids"] td.o_data_cell span')
            .join(", ")
    );

// 1. Editing content from the order comes back to the same step.
registry.category("web_tour.tours").add("campaign_order_return_tour", {
    steps: () => [
        {
            content: "Resume the order from the campaign",
            trigger: '.o_form_view button[name="action_order"]',
            run: "click",
        },
        orderAt("media"),
        {
            content: "The order has a breadcrumb entry of its own",
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains(Order of FirstHourMedia)",
        },
        {
            content: "Open the action's form from the order",
            trigger: '.o_form_view div[name="line_ids"] tr:contains(First hour letter) button[name="action_open"]',
            run: "click",
        },
        {
            content: "The action's form opens above the order",
            trigger: '.o_form_view .o_breadcrumb .breadcrumb-item:contains(Order of FirstHourMedia)',
        },
        {
            content: "Back to the order through the breadcrumb",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Order of FirstHourMedia)",
            run: "click",
        },
        orderAt("media"),
        {
            content: "Edit the email of the email action",
            trigger: '.o_form_view div[name="line_ids"] tr:contains(First hour email) button[name="action_edit_email"]',
            run: "click",
        },
        {
            content: "The Email Marketing editor opens above the order (its choice of themes shown: loaded)",
            trigger:
                '.o_form_view:has(.o_mailing_template_preview_wrapper) .o_breadcrumb .breadcrumb-item:contains(Order of FirstHourMedia)',
        },
        {
            content: "Back to the order through the breadcrumb",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Order of FirstHourMedia)",
            run: "click",
        },
        orderAt("media"),
        {
            content: "The order shows its actions again, at the same step",
            trigger: '.o_form_view div[name="line_ids"] td[name="name"]:contains(First hour email)',
        },
    ],
});

// 2. One audience figure: Reachable Now = Calculate's final count, with the breakdown one click away.
registry.category("web_tour.tours").add("campaign_audience_figures_tour", {
    steps: () => [
        {
            content: "The campaign's Reachable Now is Calculate's final count (6 contacts found, 2 excluded)",
            trigger: '.o_form_view div[name="audience_size"]:contains(4)',
        },
        {
            content: "the excluded ones are counted next to it",
            trigger: '.o_form_view div[name="audience_excluded"]:contains(2)',
        },
        {
            content: "A mailing list target: found 4 (its opted-out subscriber included), 1 excluded, 3 reachable",
            trigger:
                '.o_form_view div[name="target_ids"] tr:contains(FH Newsletter):has(td[name="recipient_count"]:contains(4)):has(td[name="excluded_count"]:contains(1)):has(td[name="reachable_count"]:contains(3))',
        },
        {
            content: "The breakdown is one click away",
            trigger: '.o_form_view div[name="audience"] button[name="action_calculate"]',
            run: "click",
        },
        {
            content: "Calculate gives the same final count",
            trigger: '.modal div[name="final"]:contains(4)',
        },
        {
            content: "with the reason of each exclusion: the opted-out subscriber",
            trigger: '.modal div[name="excluded_opted_out"]:contains(1)',
        },
        {
            content: "and the blacklisted contact",
            trigger: '.modal div[name="excluded_blacklisted"]:contains(1)',
        },
        {
            content: "Close Calculate",
            trigger: ".modal .modal-footer button.btn-secondary",
            run: "click",
        },
        {
            content: "Resume the order",
            trigger: 'body:not(:has(.modal)) .o_form_view button[name="action_order"]',
            run: "click",
        },
        orderAt("contacts"),
        {
            content: "The order's Calculate gives the same final count",
            trigger: '.o_form_view div[name="final"]:contains(4)',
        },
        {
            content: "and the reasons of its exclusions: opted out",
            trigger: '.o_form_view div[name="excluded_opted_out"]:contains(1)',
        },
        {
            content: "blacklisted",
            trigger: '.o_form_view div[name="excluded_blacklisted"]:contains(1)',
        },
    ],
});

// 2 (end). The Touchpoints smart button counts the touchpoints, not the contacts left out.
registry.category("web_tour.tours").add("campaign_touchpoint_count_tour", {
    steps: () => [
        {
            content: "4 touchpoints: the 2 contacts excluded at the run are not counted",
            trigger: '.o_form_view button[name="action_view_touchpoints"] .o_stat_value:contains(4)',
        },
        {
            content: "Open them",
            trigger: '.o_form_view button[name="action_view_touchpoints"]',
            run: "click",
        },
        {
            content: "The list shows the 4 the button counted",
            trigger: ".o_pager_counter:contains(4)",
        },
    ],
});

// 4. Names and labels.
registry.category("web_tour.tours").add("campaign_names_tour", {
    steps: () => [
        {
            content: "A target is named after what it selects: the filter in words",
            trigger: '.o_form_view div[name="target_ids"] td[name="name"]:contains(FH VIP)',
        },
        {
            content: "and a mailing list target after the list",
            trigger: '.o_form_view div[name="target_ids"] td[name="name"]:contains(FH Newsletter)',
        },
        targetsNotCut("Each target's source, kind and reach are shown in full"),
        expect(
            "The campaign's name fits in the breadcrumb",
            ".o_breadcrumb .o_last_breadcrumb_item:contains(FirstHourSpringCollection2027)",
            () => cutTexts(".o_breadcrumb .o_last_breadcrumb_item span").join(", ")
        ),
        {
            content: "Open the Actions tab",
            trigger: '.o_form_view .o_notebook a.nav-link[name="actions"]',
            run: "click",
        },
        expect(
            "Action names fit in the campaign's list of actions",
            '.o_form_view div[name="action_ids"] td[name="name"]:contains(Spring collection preview)',
            () => cutTexts('.o_form_view div[name="action_ids"] td[name="name"]').join(", ")
        ),
        {
            content: "Resume the order at its launch step",
            trigger: '.o_form_view button[name="action_order"]',
            run: "click",
        },
        orderAt("launch"),
        expect(
            "The launch step's columns say what each counts, without being cut",
            '.o_form_view div[name="launch_line_ids"] th[data-name="final"]',
            () => {
                const labels = [...document.querySelectorAll('div[name="launch_line_ids"] th[data-name]')].map(
                    (th) => th.textContent.trim()
                );
                const wanted = ["Found in Targets", "Duplicates Removed", "Excluded", "Reachable Now"];
                const missing = wanted.filter((label) => !labels.includes(label));
                const cut = cutTexts('div[name="launch_line_ids"] th[data-name] .d-block, div[name="launch_line_ids"] th[data-name] span');
                return (missing.length && `missing ${missing.join(", ")} in ${labels.join(" | ")}`) ||
                    (cut.length && `cut: ${cut.join(", ")}`);
            }
        ),
        {
            content: "Back to the campaign",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(FirstHourSpringCollection2027)",
            run: "click",
        },
        {
            content: "Back to the list of campaigns",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Campaigns)",
            run: "click",
        },
        expect(
            "The list says Revenue, the same word as the campaign's form and report",
            ".o_list_view th[data-name=revenue]",
            (th) => (th.textContent.trim() === "Revenue" ? "" : `the column reads ${th.textContent.trim()}`)
        ),
        expect(
            "Campaign names fit in the list",
            ".o_list_view td[name=name]:contains(FirstHourSpringCollection2027)",
            () => cutTexts(".o_list_view td[name=name]").join(", ")
        ),
    ],
});

// 4 (wide screens). From 1,400 px Odoo shows up to 8 smart buttons in the control panel; the
// campaign and action forms show 5, so that the breadcrumbs keep the names.
const breadcrumbsNotCut = (content, trigger) =>
    expect(content, trigger, () => {
        const small = [...document.querySelectorAll(".o_control_panel_breadcrumbs")].filter(
            (el) => el.getBoundingClientRect().width < 360
        );
        const cut = cutTexts(".o_breadcrumb .breadcrumb-item a, .o_breadcrumb .o_last_breadcrumb_item span");
        return (
            (cut.length && `cut: ${cut.join(", ")}`) ||
            (small.length && `the breadcrumbs are ${Math.round(small[0].getBoundingClientRect().width)} px wide`)
        );
    });

registry.category("web_tour.tours").add("campaign_wide_breadcrumbs_tour", {
    steps: () => [
        targetsNotCut("Beside the chatter, each target's source, kind and reach are shown in full"),
        breadcrumbsNotCut(
            "The campaign's name is not cut in the breadcrumbs",
            ".o_breadcrumb .o_last_breadcrumb_item:contains(FirstHourSpringCollection2027)"
        ),
        expect(
            "The campaign's smart buttons: four and More",
            ".o_control_panel .o-form-buttonbox",
            () => {
                const shown = [...document.querySelectorAll(".o_control_panel .o-form-buttonbox button.oe_stat_button[name]")];
                return shown.length === 4 && document.querySelector(".o_control_panel .o-form-buttonbox .o_button_more")
                    ? ""
                    : `${shown.length} smart buttons shown beside More: ${shown.map((b) => b.getAttribute("name")).join(", ")}`;
            }
        ),
        {
            content: "Open the campaign's actions from their smart button",
            trigger: '.o_control_panel button[name="action_view_actions"]',
            run: "click",
        },
        {
            content: "They open on their calendar: switch to the list",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "Open the action",
            trigger: '.o_list_view td[name="name"]:contains(Spring collection preview)',
            run: "click",
        },
        breadcrumbsNotCut(
            "The campaign / its actions / the action: no name cut",
            ".o_breadcrumb:has(.breadcrumb-item a:contains(FirstHourSpringCollection2027)) .o_last_breadcrumb_item:contains(Spring collection preview)"
        ),
    ],
});

// 4 (French). The same labels in French.
registry.category("web_tour.tours").add("campaign_names_fr_tour", {
    steps: () => [
        {
            content: "A target named after its filter, in French",
            trigger: '.o_form_view div[name="target_ids"] td[name="name"]:contains(Étiquettes : FH VIP)',
        },
        targetsNotCut("Each target's source, kind and reach in French, shown in full"),
        {
            content: "Back to the list of campaigns",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Campagnes)",
            run: "click",
        },
        expect(
            "The list says Chiffre d'affaires",
            ".o_list_view th[data-name=revenue]",
            (th) =>
                th.textContent.trim() === "Chiffre d'affaires" ? "" : `the column reads ${th.textContent.trim()}`
        ),
    ],
});
