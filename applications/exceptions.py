"""The one domain error every app's services raise, and the one place that puts it on a Django form.

`applications` is the core every other app already imports, so the error lives here; `notifications` imports none
of the others and raises none of it."""


class DomainError(Exception):
    """A business rule refused the action.

    `message` is shown to the user as it is (Japanese, already translated); `field` names the form field it belongs
    to, or None for a message at the top of the page; `code` names the rule that refused, for the code and the
    tests that branch on it (never shown). Subclasses add what their callers need (the UTB result code of a refused
    login, for one)."""

    def __init__(self, message, *, code: str, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.message)!r}, code={self.code!r}, field={self.field!r})"


class IllegalTransition(DomainError):
    """The application is not in a state from which this action is allowed."""


def form_add_domain_error(form, error: DomainError, *, non_field: bool = True) -> bool:
    """Show `error` on `form`: next to its field when the form has that field, otherwise as a non-field error at
    the top of the form. With `non_field=False` an error without a field of the form is left off, for a caller
    that shows it elsewhere (a message on the page it redirects to). Returns whether the form carries it now."""
    if error.field is not None and error.field in form.fields:
        form.add_error(error.field, error.message)
        return True
    if non_field:
        form.add_error(None, error.message)
        return True
    return False
