# One file per channel: each adds its value to campaign.action's channel (selection_add) with its
# fields, checks, readiness, audience rule and dispatcher (see campaign.action's CHANNELS hooks).
# The order of the imports is the order of the channels in the selection.
from . import email
from . import ab_test
from . import sms
from . import letter
from . import landing
from . import task
from . import event
from . import webhook
from . import weblink
