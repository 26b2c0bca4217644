from . import campaign_calendar_entry
from . import campaign_todo
