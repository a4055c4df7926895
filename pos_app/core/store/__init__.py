"""SQLite store: one ``Store`` object gives every repository."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from sqlite_utils import Database

from pos_app.core.store.clientes import ClientesRepo
from pos_app.core.store.db import SqliteDatabase, StoreError
from pos_app.core.store.documents import DocumentsRepo, SeriesCounters
from pos_app.core.store.migrations import MIGRATIONS
from pos_app.core.store.products import ProductsRepo
from pos_app.core.store.sales import SalesRepo
from pos_app.core.store.settings import SettingsRepo
from pos_app.core.store.tax_groups import TaxGroupsRepo
from pos_app.core.store.users import UsersRepo

__all__ = ["Store", "StoreError"]


class Store:
    def __init__(self, path: Path | str) -> None:
        self.database = SqliteDatabase(path, MIGRATIONS)
        self.settings = SettingsRepo(self.database)
        self.products = ProductsRepo(self.database)
        self.users = UsersRepo(self.database)
        self.sales = SalesRepo(self.database)
        self.documents = DocumentsRepo(self.database)
        self.counters = SeriesCounters(self.database)
        self.tax_groups = TaxGroupsRepo(self.database)
        self.clientes = ClientesRepo(self.database)

    def transaction(self) -> AbstractContextManager[Database]:
        """One write transaction: everything inside commits together or not at all."""
        return self.database.transaction()

    def close(self) -> None:
        self.database.close()
