"""A process that never answers the MCP handshake; it creates the file named by its argument once it runs,
so a test can interrupt a cell while the cell waits for this server to connect."""

import sys
import time
from pathlib import Path

if __name__ == "__main__":
    Path(sys.argv[1]).touch()
    time.sleep(3600)
