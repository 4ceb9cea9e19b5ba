"""250 tools served 50 per page, so a client must follow next_cursor to see them all."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lowlevel import serve

TOOLS = [
    {
        "name": f"tool_{i:03d}",
        "description": f"Synthetic tool number {i} for pagination tests.",
        "inputSchema": {
            "type": "object",
            "properties": {"x": {"type": "integer", "description": "any number"}},
        },
    }
    for i in range(250)
]

if __name__ == "__main__":
    serve("many-tools", TOOLS, page_size=50)
