"""`python -m gateway` runs the stockgate command line."""

import sys

from gateway.cli import main

sys.exit(main())
