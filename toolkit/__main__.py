"""`python -m toolkit` runs the tke-catalog command line."""

from toolkit.cli import main

if __name__ == "__main__":
    main()
