"""fixmap's console: the Textual app over the console/ engine; it renders and dispatches."""
