import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";
import { openSmartButton } from "./campaign_order_tour";

/** A campaign manager erases a contact from the campaigns, from the contact's form. */
registry.category("web_tour.tours").add("campaign_erase_contact_tour", {
    steps: () => [
        {
            content: "The contact's form (read-only to a campaign manager)",
            trigger: '.o_form_view .o_field_widget[name="name"]:contains(Erin Erased)',
        },
        {
            content: "Open the Actions menu",
            trigger: ".o_control_panel .o_cp_action_menus button.dropdown-toggle",
            run: "click",
        },
        {
            content: "Erase from Campaigns",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Erase from Campaigns)",
            run: "click",
        },
        {
            content: "The wizard counts the contact's touchpoints",
            trigger: '.modal div[name="touchpoint_count"]:contains(1)',
        },
        {
            content: "Blacklist the contact too",
            trigger: '.modal div[name="blacklist"] input',
            run: "check",
        },
        {
            content: "Erase",
            trigger: '.modal button[name="action_erase"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal:not(.o_inactive_modal) .modal-footer button.btn-primary:contains(Ok)",
            run: "click",
        },
        {
            content: "Back on the contact, the erasure in its history",
            trigger: "body:not(:has(.modal-dialog)) .o-mail-Message:contains(Erased from the campaigns)",
        },
    ],
});

/** An accountant (Invoicing, and Expenses approval rights) reads a campaign: only what they may use
 * is shown; Calculate; ties an approved expense to it from the campaign; its analysis; the ROI
 * report printed. */
registry.category("web_tour.tours").add("campaign_accountant_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Campaigns app",
            trigger: '.o_app[data-menu-xmlid="campaign_manager.campaign_manager_menu_root"]',
            run: "click",
        },
        {
            content: "No Order a Campaign button for an accountant",
            trigger: '.o_list_view:not(:has(button:contains(Order a Campaign))) .o_data_row td[name="name"]',
        },
        {
            content: "Open the campaign",
            trigger: '.o_list_view .o_data_row td[name="name"]:contains(LedgerSpring)',
            run: "click",
        },
        {
            content: "Calculate is there, the buttons that change the campaign are not",
            trigger:
                '.o_form_view .o_statusbar_buttons:not(:has(button[name="action_stop"], button[name="action_done"], button[name="action_cancel"], button[name="action_open_duplicate"])) button[name="action_calculate"]',
        },
        {
            content: "Calculate",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_calculate"]',
            run: "click",
        },
        {
            content: "The figures",
            trigger: '.modal div[name="final"]:contains(2)',
        },
        {
            content: "Close",
            trigger: ".modal .modal-footer button:contains(Close)",
            run: "click",
        },
        {
            content: "Budget and Results",
            trigger: 'body:not(:has(.modal-dialog)) .o_form_view .o_notebook a[name="budget"]',
            run: "click",
        },
        {
            content: "No Create Project for an accountant",
            trigger: '.o_form_view .o_notebook:not(:has(button[name="action_create_project"])) div[name="cost_expenses"]',
        },
        {
            content: "Tie Expenses",
            trigger: '.o_form_view button[name="action_tie_expenses"]',
            run: "click",
        },
        {
            content: "Add an expense",
            trigger: '.modal div[name="expense_ids"] .o_field_x2many_list_row_add a',
            run: "click",
        },
        {
            content: "Pick the approved taxi",
            trigger: ".modal:not(.o_inactive_modal) .o_data_row td:contains(Taxi to the fair)",
            run: "click",
        },
        {
            content: "It is listed",
            trigger: '.modal div[name="expense_ids"] .o_data_row td:contains(Taxi to the fair)',
        },
        {
            content: "Tie it to the campaign",
            trigger: '.modal button[name="action_tie"]',
            run: "click",
        },
        {
            content: "The campaign's expenses count it",
            trigger: 'body:not(:has(.modal-dialog)) .o_form_view div[name="cost_expenses"]:contains(120.00)',
        },
        ...openSmartButton("action_view_analysis", "the campaign's analysis"),
        {
            content: "The analysis shows the expense among the costs",
            trigger: ".o_pivot_view .o_pivot:contains(Expenses)",
        },
        {
            content: "Back to the campaign",
            trigger: ".o_control_panel .breadcrumb-item a:contains(LedgerSpring)",
            run: "click",
        },
        {
            content: "Open the Actions menu",
            trigger: ".o_form_view .o_control_panel .o_cp_action_menus button.dropdown-toggle",
            run: "click",
        },
        {
            content: "Open Print",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Print)",
            run: "click",
        },
        {
            content: "Print the Campaign ROI",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Campaign ROI)",
            run: "click",
        },
        {
            content: "The campaign is still shown, nothing refused",
            trigger: "body:not(:has(.o_error_dialog)):not(.o_ui_blocked) .o_form_view .o_field_widget[name=name]",
        },
    ],
});

/** The same accountant ties a submitted expense to the campaign from the Expenses app. */
registry.category("web_tour.tours").add("campaign_accountant_expense_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Expenses app",
            trigger: '.o_app[data-menu-xmlid="hr_expense.menu_hr_expense_root"]',
            run: "click",
        },
        {
            content: "Open My Expenses",
            trigger: '.o_main_navbar [data-menu-xmlid="hr_expense.menu_hr_expense_my_expenses"]',
            run: "click",
        },
        {
            content: "Expenses to Process",
            trigger: '.dropdown-item[data-menu-xmlid="hr_expense.menu_hr_expense_expenses_to_process"]',
            run: "click",
        },
        {
            content: "Open the submitted stand hire",
            trigger: ".o_list_view .o_data_row td:contains(Stand hire)",
            run: "click",
        },
        {
            content: "Choose the campaign",
            trigger: '.o_form_view .o_field_widget[name="campaign_id"] input',
            run: "edit LedgerSpring",
        },
        {
            content: "Pick it",
            trigger: ".o_form_view .ui-autocomplete a:contains(LedgerSpring)",
            run: "click",
        },
        {
            content: "The campaign is chosen",
            trigger: '.o_form_view .o_field_widget[name="campaign_id"] input:value(LedgerSpring)',
        },
        ...stepUtils.saveForm(),
    ],
});
