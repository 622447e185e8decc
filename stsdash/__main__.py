import sys

from stsdash.cli import main

sys.exit(main())
