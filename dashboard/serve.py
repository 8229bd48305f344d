"""`python -m dashboard.serve run APP …`: Streamlit's command line, with the dashboard's heavy
modules imported before the server starts, so the first page load does not wait for them."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Import what every page needs, then hand the arguments to Streamlit's own CLI."""
    # Streamlit imports the app on the first page load; modules already in sys.modules are free then.
    import altair  # noqa: F401
    import pandas  # noqa: F401
    import vl_convert  # noqa: F401
    from streamlit.web import cli

    import core.analysis  # noqa: F401
    import core.charts  # noqa: F401
    import core.verdicts  # noqa: F401
    import dashboard.loaders  # noqa: F401

    return cli.main(args=argv, prog_name="streamlit", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
