"""The embedded demo: a simulated RAG service with faults, its site config, and `fixmap demo`."""
