"""Entry point: `flask --app app run`, `flask db upgrade`, `gunicorn app:app`."""
import sys

from config import ConfigError
from myapp import create_app

try:
    app = create_app()
except ConfigError as error:
    # One clear line naming the setting; never a traceback with a URL in it.
    print(error, file=sys.stderr)
    sys.exit(2)
