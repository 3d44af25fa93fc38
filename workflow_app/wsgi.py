import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_app.settings.prod")
application = get_wsgi_application()

# The ~125,000 objects Django and the apps have just created live as long as the process: move
# them out of the collector's sight, so the full collections that large requests trigger (a
# 5,000-record import allocates hundreds of thousands of objects) do not walk them every time.
# Measured in-process: ~10 % of an import batch's CPU went to those walks.
gc.freeze()
