"""fixmap's engine: everything the console does, headless (see the README's Layout)."""
