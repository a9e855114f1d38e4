import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sat_portal.settings")
application = get_wsgi_application()

# Every serving process (each gunicorn worker imports this module) keeps the tables tidy.
from sat_portal import housekeeping  # noqa: E402 (needs the settings configured above)

housekeeping.start()
