"""`python -m modelcache_hydrator`: the image's default command."""

import sys

from .main import main

sys.exit(main())
