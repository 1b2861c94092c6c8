import sys

from vizdoctor.cli import main

sys.exit(main())
