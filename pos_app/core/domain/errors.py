"""Domain errors."""

from __future__ import annotations

from pos_app.core.errors import PosError

__all__ = ["ValidationError"]


class ValidationError(PosError, ValueError):
    """A value entered by the user or read from configuration is not acceptable.

    ``field`` is the (English/fiscal) name of the offending field, e.g. ``"cpf"`` or
    ``"itens[0].quantidade"``; ``message`` is Brazilian Portuguese text ready to show to the
    operator, naming the field at fault (``"CPF inválido: 123.456.789-00"``).
    ``str(err)`` is the message.
    """

    kind = "validacao"
    field: str
    message: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ValidationError(field={self.field!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, str]]:
        return (type(self), (self.field, self.message))
