from . import account_analytic_plan
from . import campaign_action
from . import campaign_action_run
from . import campaign_campaign
from . import campaign_target
from . import campaign_touchpoint
