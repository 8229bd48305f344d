"""`python -m dashboard.serve run APP …`: Streamlit's command line with the dashboard's settings, and
the dashboard's heavy modules imported before the server starts, so the first page load does not
wait for them."""

from __future__ import annotations

import sys

# The dashboard is a local viewer of results: no "Deploy" button in its toolbar; and pages that
# reopen a shared link seed their widgets from the URL, which is not a mistake worth a warning.
SETTINGS = {"client.toolbarMode": "viewer", "global.disableWidgetStateDuplicationWarning": "true"}


def with_settings(argv: list[str]) -> list[str]:
    """`streamlit run APP …` arguments with the dashboard's settings after APP (a flag given on the
    command line wins)."""
    if len(argv) < 2 or argv[0] != "run":
        return argv
    given = set(argv)
    extra = [part for name, value in SETTINGS.items() if f"--{name}" not in given
             for part in (f"--{name}", value)]
    return [*argv[:2], *extra, *argv[2:]]


def main(argv: list[str]) -> int:
    """Import what every page needs, then hand the arguments to Streamlit's own CLI."""
    # Streamlit imports the app on the first page load; modules already in sys.modules are free then.
    # dashboard.loaders itself is not imported here: its st.cache_data functions, defined before the
    # server runs, would each log "No runtime found"; its imports below are the heavy part.
    import altair  # noqa: F401
    import pandas  # noqa: F401
    import vl_convert  # noqa: F401
    from streamlit.web import cli

    import lossdb.core.store  # noqa: F401
    from lossdb.core.analysis import runs_frame  # noqa: F401
    from lossdb.core.judging import CLAIMS, evaluate  # noqa: F401
    from lossdb.core.present import charts  # noqa: F401

    return cli.main(args=with_settings(argv), prog_name="streamlit", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
