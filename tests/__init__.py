from . import test_audience
from . import test_campaign
from . import test_duplicate
from . import test_security
from . import test_i18n
