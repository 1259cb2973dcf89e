import sys

from physiofm.cli import main

sys.exit(main())
