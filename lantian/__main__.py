"""``python -m lantian …`` is the ``lantian`` command."""
import sys

from lantian.cli import main

sys.exit(main())
