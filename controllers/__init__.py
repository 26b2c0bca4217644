from . import main
from . import landing
from . import tracking
from . import journey
