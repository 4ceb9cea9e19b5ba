"""``python -m mcp_kernel ...`` is ``mcp-kernel ...``."""

import sys

from .cli import main

sys.exit(main())
