from . import main
from . import landing
