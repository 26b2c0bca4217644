import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * One action of the journey and, below it, the actions that follow it (recursively): its channel,
 * when it runs, whom it reaches among the previous action's contacts, and the live counts of its
 * touchpoints. The name opens the action; "Add a follow-up" creates an action after this one.
 */
export class JourneyNode extends Component {
    static template = "campaign_manager.JourneyNode";
    static props = {
        node: Object,
        tree: Object,
        onOpen: Function,
        onAddFollowUp: Function,
    };

    get children() {
        return this.props.tree.children[this.props.node.id] || [];
    }
}
JourneyNode.components = { JourneyNode };

/** The campaign's actions as a tree (field widget of campaign.campaign's journey_tree). */
export class CampaignJourneyTree extends Component {
    static template = "campaign_manager.CampaignJourneyTree";
    static components = { JourneyNode };
    static props = { ...standardFieldProps };

    setup() {
        this.action = useService("action");
    }

    get tree() {
        const value = this.props.record.data[this.props.name] || { nodes: [] };
        const ids = new Set(value.nodes.map((node) => node.id));
        const children = {};
        const roots = [];
        for (const node of value.nodes) {
            if (node.parent_id && ids.has(node.parent_id)) {
                (children[node.parent_id] ||= []).push(node);
            } else {
                roots.push(node);
            }
        }
        return { roots, children, canEdit: Boolean(value.can_edit) };
    }

    async openAction(node) {
        if (!(await this.props.record.save())) {
            return;
        }
        await this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "campaign.action",
            res_id: node.id,
            views: [[false, "form"]],
            target: "current",
        });
    }

    async addFollowUp(node) {
        if (!(await this.props.record.save())) {
            return;
        }
        await this.action.doAction(
            {
                type: "ir.actions.act_window",
                name: _t("Follow-up of %s", node.name),
                res_model: "campaign.action",
                views: [[false, "form"]],
                target: "new",
                context: {
                    default_campaign_id: this.props.record.resId,
                    default_parent_id: node.id,
                    default_schedule_type: "after",
                },
            },
            { onClose: () => this.props.record.load() }
        );
    }
}

registry.category("fields").add("campaign_journey_tree", {
    component: CampaignJourneyTree,
    supportedTypes: ["json"],
});
