import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while torch is imported
    print("interrupted while loading; run the command again", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
