def main() -> None:
    """Placeholder entry, replaced by the Typer app."""
