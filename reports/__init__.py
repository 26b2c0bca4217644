from . import campaign_analysis_report
from . import campaign_calendar_entry
from . import campaign_todo
from . import report_campaign_letter
