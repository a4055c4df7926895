"""Frente de caixa NFC-e (Focus NFe) com contingência offline."""

__version__ = "0.1.0"
