from . import campaign_action_duplicate
from . import campaign_campaign_calculate
from . import campaign_campaign_duplicate
from . import campaign_campaign_launch
from . import campaign_campaign_launch_line
from . import campaign_campaign_order
from . import campaign_campaign_order_line
from . import campaign_contact_erase
