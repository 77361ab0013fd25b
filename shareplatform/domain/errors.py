"""Errors raised by the domain layer. They carry messages safe to show a user."""


class DomainError(ValueError):
    """A value or request that the platform's rules refuse."""


class InvalidValue(DomainError):
    """An unknown or malformed label, caveat, role, vetting level or similar."""

    def __init__(
        self, kind: str, value: object, allowed: list[str] | None = None, why: str = ""
    ) -> None:
        self.kind = kind
        self.value = value
        self.allowed = allowed or []
        self.why = why  # the reason alone, for a form's field error
        hint = f" (allowed: {', '.join(self.allowed)})" if self.allowed else ""
        shown = "no value" if value in (None, "") else repr(value)
        super().__init__(f"Invalid {kind}: {shown}{': ' + why if why else ''}{hint}")


class NotPermitted(DomainError):
    """The acting user may not do this. The message is safe for that user to see."""


class Conflict(NotPermitted):
    """The request clashes with the current state (e.g. correcting a record already corrected)."""


class NotFound(DomainError):
    """Absent, or not the caller's to know about: the two are deliberately indistinguishable."""

    def __init__(self, what: str = "page") -> None:
        super().__init__(f"{what.capitalize()} not found")


class IntegrityFailure(Exception):
    """Stored facts or content failed their integrity check: the object is withheld, the failure
    audited and alerted. Not a DomainError: nobody's input caused it."""

    def __init__(self, what: str, object_id: str = "", detail: str = "") -> None:
        self.what = what
        self.object_id = object_id
        super().__init__(
            detail or f"This {what.rstrip('s').replace('_', ' ')} failed its integrity check"
        )
