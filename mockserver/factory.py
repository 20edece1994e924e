"""The one way a complete mock is built: engine, settings in force, data sets, state file replayed.

``create_app`` puts the HTTP face on what :func:`open_mock` returns; tools and tests that drive the
engine without HTTP call :func:`open_mock` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockserver.control.mock_control import MockControl
from mockserver.engine.clock import Clock
from mockserver.engine.core import Engine
from mockserver.engine.store import Store
from mockserver.settings import MockSettings, from_options
from mockserver.spec import Spec, load_spec


def open_mock(
    spec: Spec | str | Path | None = None,
    *,
    settings: MockSettings | None = None,
    store: Store | None = None,
    clock: Clock | str | None = None,
    **options: Any,
) -> MockControl:
    """A complete mock of the Ingestion API (or of any OpenAPI 3.1 ``spec``) without HTTP: its
    :class:`MockControl`, whose ``engine`` executes requests.

    Options are the fields of :class:`mockserver.MockSettings`, given as ``settings`` or as keywords
    (not both). ``store`` and a :class:`Clock` given as ``clock`` replace the engine's own (for tests
    that share or steer them); ``clock`` given as text is the setting.
    """
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    if isinstance(clock, str):
        options["clock"], clock = clock, None
    if settings is None:
        settings = from_options(options)
    elif options:
        raise TypeError("pass either settings or keyword options, not both")
    else:
        settings.check()
    engine = Engine(loaded, settings, store=store, clock=clock, _factory=True)
    control = MockControl(engine)
    try:
        control.start_up()
    except BaseException:
        engine.close()
        raise
    return control
