"""`python -m console`: the same CLI as `fixmap`."""

from console.cli.base import main

if __name__ == "__main__":
    main(prog_name="fixmap")
