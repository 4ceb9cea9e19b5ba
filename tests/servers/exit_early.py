"""A server that gives up before the handshake, explaining why on stderr."""

import sys

if __name__ == "__main__":
    print("exit_early: missing API key (set EXAMPLE_API_KEY)", file=sys.stderr, flush=True)
    sys.exit(2)
