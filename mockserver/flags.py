"""Reading and checking the ``mockserver`` command's values: one clear message per mistake.

Every function here takes values already parsed (strings, numbers, lists), so it does not depend on
how the options are declared: it raises :class:`CliError` (status 2, a usage error) with a message
that names the flag, says what form was expected, and suggests the likely intended name.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Collection, Sequence
from urllib.parse import urlsplit

from mockserver.engine.faults import FaultRule
from mockserver.suggest import did_you_mean as did_you_mean  # (its home; named here for the CLI)

USAGE = 2  # exit status of a usage error


class CliError(Exception):
    """A problem to tell the user in one line (no traceback); exit status 1 (2 for usage)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# --- argparse value types: a message naming what was expected (argparse prefixes the flag) -------


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port number (0-65535; 0 picks a free one)"
        ) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535; 0 picks a free one)")
    return port


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def seconds(text: str) -> float:
    value = _float(text)
    if value is None or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def share(text: str) -> float:
    """A share between 0 and 1 (``0.9``), or a percentage (``90%``)."""
    percent = text.endswith("%")
    value = _float(text[:-1] if percent else text)
    if value is not None and percent:
        value /= 100
    if value is None or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1 (e.g. 0.9 or 90%)")
    return value


def http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http:// or https:// URL (e.g. http://127.0.0.1:8787)"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} has no valid port (0-65535)") from None
    return text


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


# --- option combinations --------------------------------------------------------------------------


def check_serve_options(
    *, app_id: str | None, api_key: str | None, runs: str, run_seconds: float | None
) -> None:
    """Refuse options that do nothing in the combination given, saying why."""
    if (app_id is None) != (api_key is None):
        given, missing = ("--app-id", "--api-key") if app_id is not None else ("--api-key", "--app-id")
        raise CliError(
            f"--app-id and --api-key go together: {given} without {missing} would change nothing",
            status=USAGE,
        )
    if app_id == "" or api_key == "":
        raise CliError("--app-id and --api-key must not be empty (no request could match them)", status=USAGE)
    if run_seconds is not None and runs != "deferred":
        raise CliError(
            f"--run-seconds only applies to --runs deferred (with --runs {runs} a run finishes at once)",
            status=USAGE,
        )


# --- fault flags ----------------------------------------------------------------------------------

FAIL_FORM = "OP:STATUS[:RATE], e.g. createSource:503 or *:500:0.1"
FAIL_NEXT_FORM = "OP:STATUS:N, e.g. createSource:503:2"
DROP_FORM = "OP[:RATE], e.g. push or *:0.05"
LATENCY_FORM = "S or MIN-MAX seconds, e.g. 0.2 or 0.05-0.5"
_WHOLE = re.compile(r"[0-9]+")


def faults_from_flags(
    *,
    fail: Sequence[str] = (),
    fail_next: Sequence[str] = (),
    drop: Sequence[str] = (),
    drop_after: Sequence[str] = (),
    latency: str | None = None,
    operations: Collection[str],
) -> list[FaultRule]:
    """The fault rules that ``--fail``, ``--fail-next``, ``--drop``, ``--drop-after`` and ``--latency``
    ask for.

    ``operations`` are the spec's operationIds (an OP must be one of them, or ``*``). Raises
    :class:`CliError` naming the flag, the value, what is wrong and the expected form.
    """
    rules: list[FaultRule] = []
    if latency is not None:
        rules.append(FaultRule(latency=_latency(latency)))
    for value in fail:
        flag = _Flag("--fail", value, FAIL_FORM)
        op, status, *rate = flag.pieces(2, 3)
        rules.append(
            FaultRule(
                operation=flag.operation(op, operations),
                status=flag.status(status),
                rate=flag.rate(rate[0]) if rate else 1.0,
            )
        )
    for value in fail_next:
        flag = _Flag("--fail-next", value, FAIL_NEXT_FORM)
        op, status, times = flag.pieces(3, 3)
        if not _WHOLE.fullmatch(times) or int(times) < 1:
            raise flag.error(f"N {times!r} is not a whole number of calls (1 or more)")
        rules.append(
            FaultRule(operation=flag.operation(op, operations), status=flag.status(status), times=int(times))
        )
    for name, values in (("--drop", drop), ("--drop-after", drop_after)):
        for value in values:
            flag = _Flag(name, value, DROP_FORM)
            op, *rate = flag.pieces(1, 2)
            rules.append(
                FaultRule(
                    operation=flag.operation(op, operations),
                    drop=name == "--drop",
                    drop_after=name == "--drop-after",
                    rate=flag.rate(rate[0]) if rate else 1.0,
                )
            )
    for rule in rules:
        rule.check()  # the checks above are stricter; this keeps the two in step
    return rules


def _latency(value: str) -> float | tuple[float, float]:
    def error(problem: str) -> CliError:
        return CliError(f"--latency {value!r}: {problem}; expected {LATENCY_FORM}", status=USAGE)

    low_text, dash, high_text = value.partition("-")
    low, high = _float(low_text), _float(high_text) if dash else None
    if low is None or (dash and high is None):
        raise error("not a number of seconds")
    if high is None:
        if low <= 0:
            raise error("a latency of 0 adds no delay")
        return low
    if not 0 <= low <= high or high == 0:
        raise error("MIN must be at most MAX, and MAX above 0")
    return (low, high)


class _Flag:
    """One value of a fault flag, and the messages about it."""

    def __init__(self, flag: str, value: str, form: str) -> None:
        self.flag, self.value, self.form = flag, value, form

    def error(self, problem: str, *, form: bool = True) -> CliError:
        expected = f"; expected {self.form}" if form else ""
        return CliError(f"{self.flag} {self.value}: {problem}{expected}", status=USAGE)

    def pieces(self, least: int, most: int) -> list[str]:
        pieces = self.value.split(":")
        if not least <= len(pieces) <= most:
            raise self.error(f"{len(pieces)} part{'s' if len(pieces) != 1 else ''} separated by ':'")
        return pieces

    def operation(self, name: str, operations: Collection[str]) -> str | None:
        if name == "*":
            return None
        if not name:
            raise self.error("OP is empty (name an operationId, or * for every operation)")
        if name not in operations:
            hint = did_you_mean(name, operations) or " (OP is an operationId of the spec, or *)"
            raise self.error(f"the spec has no operation {name!r}{hint}", form=False)
        return name

    def status(self, text: str) -> int:
        if not _WHOLE.fullmatch(text):
            raise self.error(f"STATUS {text!r} is not an HTTP status code")
        status = int(text)
        if not 400 <= status <= 599:
            raise self.error(f"STATUS {status} is not an error status (400-599)")
        return status

    def rate(self, text: str) -> float:
        rate = _float(text)
        if rate is None or not 0 <= rate <= 1:
            raise self.error(f"the rate {text!r} is not a probability between 0 and 1")
        if rate == 0:
            raise self.error("a rate of 0 never fires")
        return rate
