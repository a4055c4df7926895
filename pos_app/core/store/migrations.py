"""Named migrations. Append only: never edit one that has shipped."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from pos_app.core.store.db import Migration


def _run(db: Database, script: str) -> None:
    # executescript() would COMMIT the migration's transaction: run statement by statement.
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            db.execute(buffer)
            buffer = ""
    if buffer.strip():
        raise ValueError(f"migração incompleta: {buffer!r}")


def _m001_base(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            codigo TEXT NOT NULL,
            ean TEXT,
            descricao TEXT NOT NULL,
            ncm TEXT NOT NULL,
            cfop TEXT NOT NULL,
            unidade TEXT NOT NULL,
            preco TEXT NOT NULL,
            icms_origem TEXT NOT NULL DEFAULT '0',
            icms_situacao_tributaria TEXT NOT NULL,
            tributos_percentual TEXT NOT NULL DEFAULT '0',
            cest TEXT,
            ativo INTEGER NOT NULL DEFAULT 1
        );
        CREATE UNIQUE INDEX idx_products_codigo ON products(codigo);
        CREATE UNIQUE INDEX idx_products_ean ON products(ean) WHERE ean IS NOT NULL;

        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            codigo TEXT NOT NULL UNIQUE,
            nome TEXT NOT NULL,
            papel TEXT NOT NULL CHECK (papel IN ('gerente', 'caixa')),
            pin_hash TEXT NOT NULL,
            ativo INTEGER NOT NULL DEFAULT 1,
            tentativas_falhas INTEGER NOT NULL DEFAULT 0,
            bloqueado_ate TEXT,
            created_at TEXT NOT NULL
        );

        CREATE TABLE sales (
            id INTEGER PRIMARY KEY,
            terminal_id TEXT NOT NULL,
            operador_id INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            valor_produtos TEXT NOT NULL,
            valor_desconto TEXT NOT NULL,
            valor_total TEXT NOT NULL,
            total_pago TEXT NOT NULL,
            troco TEXT NOT NULL,
            valor_tributos TEXT NOT NULL,
            cpf TEXT,
            cnpj TEXT
        );
        CREATE INDEX idx_sales_created ON sales(created_at);

        CREATE TABLE sale_items (
            id INTEGER PRIMARY KEY,
            sale_id INTEGER NOT NULL REFERENCES sales(id),
            numero_item INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            codigo TEXT NOT NULL,
            ean TEXT,
            descricao TEXT NOT NULL,
            ncm TEXT NOT NULL,
            cfop TEXT NOT NULL,
            unidade TEXT NOT NULL,
            quantidade TEXT NOT NULL,
            valor_unitario TEXT NOT NULL,
            valor_bruto TEXT NOT NULL,
            valor_desconto TEXT NOT NULL,
            icms_origem TEXT NOT NULL,
            icms_situacao_tributaria TEXT NOT NULL,
            valor_tributos TEXT NOT NULL,
            cest TEXT,
            UNIQUE (sale_id, numero_item)
        );

        CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            sale_id INTEGER NOT NULL REFERENCES sales(id),
            seq INTEGER NOT NULL,
            forma TEXT NOT NULL,
            valor TEXT NOT NULL,
            bandeira TEXT,
            cnpj_credenciadora TEXT,
            numero_autorizacao TEXT
        );

        CREATE TABLE fiscal_documents (
            id INTEGER PRIMARY KEY,
            sale_id INTEGER NOT NULL REFERENCES sales(id),
            ref TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('online', 'contingencia')),
            status TEXT NOT NULL,
            ambiente TEXT NOT NULL,
            serie INTEGER,
            numero INTEGER,
            chave TEXT,
            codigo_unico TEXT,
            tp_emis INTEGER NOT NULL DEFAULT 1,
            data_emissao TEXT NOT NULL,
            payload TEXT NOT NULL,
            status_sefaz TEXT,
            mensagem_sefaz TEXT,
            protocolo TEXT,
            data_autorizacao TEXT,
            caminho_xml TEXT,
            caminho_danfe TEXT,
            caminho_xml_cancelamento TEXT,
            qrcode_url TEXT,
            url_consulta TEXT,
            focus_contingencia INTEGER NOT NULL DEFAULT 0,
            focus_contingencia_efetivada INTEGER NOT NULL DEFAULT 0,
            tentativa_anterior TEXT,
            replaces_document_id INTEGER REFERENCES fiscal_documents(id),
            receipt_path TEXT,
            xml_path TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX idx_docs_sale ON fiscal_documents(sale_id);
        CREATE INDEX idx_docs_status ON fiscal_documents(status);
        CREATE UNIQUE INDEX idx_docs_serie_numero ON fiscal_documents(serie, numero)
            WHERE kind = 'contingencia';

        CREATE TABLE document_events (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES fiscal_documents(id),
            at TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            http_status INTEGER,
            response TEXT,
            note TEXT
        );
        CREATE INDEX idx_events_doc ON document_events(document_id);

        CREATE TABLE series_counters (
            serie INTEGER PRIMARY KEY,
            next_numero INTEGER NOT NULL CHECK (next_numero >= 1)
        );
        """
    )


def _m002_products_fts(db: Database) -> None:
    _run(
        db,
        """
        CREATE VIRTUAL TABLE products_fts USING fts5(
            descricao, codigo, ean, content=products, content_rowid=id,
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
            INSERT INTO products_fts(rowid, descricao, codigo, ean)
            VALUES (new.id, new.descricao, new.codigo, new.ean);
        END;
        CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
            INSERT INTO products_fts(products_fts, rowid, descricao, codigo, ean)
            VALUES ('delete', old.id, old.descricao, old.codigo, old.ean);
        END;
        CREATE TRIGGER products_au AFTER UPDATE ON products BEGIN
            INSERT INTO products_fts(products_fts, rowid, descricao, codigo, ean)
            VALUES ('delete', old.id, old.descricao, old.codigo, old.ean);
            INSERT INTO products_fts(rowid, descricao, codigo, ean)
            VALUES (new.id, new.descricao, new.codigo, new.ean);
        END;
        """,
    )


MIGRATIONS: list[Migration] = [
    ("001_base", _m001_base),
    ("002_products_fts", _m002_products_fts),
]
