class ApplicationError(Exception):
    """A business rule refused the action. `message` is shown to the customer as it is (Japanese);
    `field` names the form field it belongs to, or None for a message at the top of the page."""

    def __init__(self, message, *, field: str | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code


class IllegalTransition(ApplicationError):
    """The application is not in a state from which this action is allowed."""
