from . import campaign_todo
