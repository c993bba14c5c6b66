"""`python -m connector_operator`: run the operator (kopf) with the settings from the environment."""

from __future__ import annotations

import logging

import kopf

from connector_operator.settings import Settings


def run_operator(settings: Settings | None = None, *, verbose: bool = False, debug: bool = False) -> None:
    settings = settings or Settings.from_env()
    kopf.configure(verbose=verbose, debug=debug, log_format=kopf.LogFormat.PLAIN)
    logging.getLogger("connector_operator").setLevel(logging.INFO)
    from connector_operator import handlers  # noqa: F401, PLC0415 - registers the handlers
    from connector_operator.operator_state import build  # noqa: PLC0415

    kopf.run(
        memo=kopf.Memo(state=build(settings)),
        standalone=settings.standalone,
        peering_name=settings.peering,
        clusterwide=not settings.watch_namespaces,
        namespaces=list(settings.watch_namespaces),
        liveness_endpoint=settings.liveness or None,
    )


def main() -> None:
    run_operator()


if __name__ == "__main__":
    main()
