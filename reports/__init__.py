from . import campaign_analysis_report
from . import campaign_todo
