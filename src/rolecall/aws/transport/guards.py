"""What keeps botocore's text out of rolecall's errors and logs: a response parser whose failures carry no body
(:class:`GuardedParserFactory`) and a logging filter masking secrets in botocore's debug lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolecall.aws.hints import UnusableAnswer
from rolecall.aws.redaction import clean_header


def _answer_problem(error: BaseException, status: int | None) -> str:
    """What was wrong with an answer, in fixed words: the exception's own text quotes the body."""
    from botocore.parsers import ResponseParserError  # type: ignore[import-untyped, unused-ignore]

    if isinstance(status, int) and 300 <= status < 400:
        return "a redirect"
    if isinstance(error, RecursionError):
        return "an answer nested too deeply"
    if isinstance(error, ValueError) and "timestamp" in str(error).lower():
        return "a timestamp that is not a date"
    if isinstance(error, KeyError):
        return "XML without the expected result element (an HTML page or another service's answer)"
    if isinstance(error, ResponseParserError):
        text = str(error)
        if "invalid XML" in text or "Unable to parse" in text:
            return "an answer that does not parse (cut short, or not XML)"
        return "an answer that is not in the service's format"
    return f"an answer botocore cannot read ({type(error).__name__})"


class GuardedParser:
    """A botocore response parser whose failures carry no body and chain no exception.

    botocore's ``ResponseParserError`` quotes the whole body, a bad timestamp's ``ValueError`` quotes the value,
    and both would reach ``--debug`` tracebacks (or a library caller's logs) with the SecretAccessKey and
    SessionToken of a cut-short answer in them.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def parse(self, response: Mapping[str, Any], shape: Any) -> Any:
        """botocore's ``ResponseParser.parse``; any failure becomes an ``UnusableAnswer``."""
        problem: str | None = None
        try:
            return self._inner.parse(response, shape)
        except Exception as error:  # RecursionError included: absurd nesting in the body
            problem = _answer_problem(error, response.get("status_code"))
        # Raised here, outside the except block, so that it has no __context__ (the failure and its body).
        headers = response.get("headers") or {}
        status = response.get("status_code")
        raise UnusableAnswer(status if isinstance(status, int) else None, clean_header(
            headers.get("content-type") if hasattr(headers, "get") else ""
        ), problem)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class GuardedParserFactory:
    """botocore's ``ResponseParserFactory`` handing out guarded parsers (a session component)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_parser(self, protocol_name: str) -> GuardedParser:
        """A guarded parser for ``protocol_name`` (``query``, ``json``, ``rest-json``...)."""
        return GuardedParser(self._inner.create_parser(protocol_name))

    def set_parser_defaults(self, **kwargs: Any) -> None:
        """As botocore's factory."""
        self._inner.set_parser_defaults(**kwargs)


#: botocore's loggers whose debug lines carry bodies, headers or canonical requests (a token, a secret).
BOTOCORE_LOGGERS = (
    "botocore.parsers", "botocore.endpoint", "botocore.auth", "botocore.httpsession", "botocore.hooks",
    "botocore.client", "botocore.retryhandler", "botocore.credentials", "urllib3.connectionpool",
)  # fmt: skip


class RedactingFilter:
    """A logging filter that masks secrets in botocore's debug lines (``Response body: b'...<SessionToken>...``),
    for library callers who turn botocore's logging on; it changes nothing when logging is off (filters run only
    for records that pass the level)."""

    def filter(self, record: Any) -> bool:
        """Mask the secrets of ``record``'s message; never drop the record."""
        from rolecall.errors import redact_secrets

        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: leave it to logging
            return True
        masked = redact_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # The formatter would format the traceback from the exception itself; give it the masked text.
            import traceback

            record.exc_text = redact_secrets("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return True


def redact_botocore_logs() -> None:
    """Put a RedactingFilter on botocore's loggers once per process."""
    import logging

    for name in BOTOCORE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())
