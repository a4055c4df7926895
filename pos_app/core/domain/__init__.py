"""Domain model of the point of sale: money, validators, products, payments and sales (no I/O)."""

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.emitente import Emitente
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale, SaleItem

__all__ = ["Emitente", "Payment", "Product", "Sale", "SaleItem", "ValidationError"]
