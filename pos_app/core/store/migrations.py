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
        """,
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


def _m003_manager_ops(db: Database) -> None:
    """Audit log, cancel intents, cash sessions and movements, local record of inutilizações."""
    _run(
        db,
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            user_codigo TEXT,
            user_nome TEXT,
            action TEXT NOT NULL,
            target TEXT,
            reason TEXT,
            outcome TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX idx_audit_at ON audit_log(at);

        CREATE TABLE cancel_intents (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES fiscal_documents(id),
            justificativa TEXT NOT NULL,
            requested_by INTEGER REFERENCES users(id),
            requested_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pendente', 'executado', 'falhou')),
            result TEXT,
            executed_at TEXT
        );
        CREATE UNIQUE INDEX idx_cancel_intents_open ON cancel_intents(document_id) WHERE status = 'pendente';

        CREATE TABLE cash_sessions (
            id INTEGER PRIMARY KEY,
            terminal_id TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('aberto', 'fechado')),
            opened_at TEXT NOT NULL,
            opened_by INTEGER REFERENCES users(id),
            opening_float TEXT NOT NULL,
            auto_opened INTEGER NOT NULL DEFAULT 0,
            closed_at TEXT,
            closed_by INTEGER REFERENCES users(id),
            closing TEXT
        );
        CREATE UNIQUE INDEX idx_cash_sessions_open ON cash_sessions(terminal_id) WHERE status = 'aberto';

        CREATE TABLE cash_movements (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES cash_sessions(id),
            kind TEXT NOT NULL CHECK (kind IN ('sangria', 'suprimento')),
            valor TEXT NOT NULL,
            motivo TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL
        );
        CREATE INDEX idx_cash_movements_session ON cash_movements(session_id);

        ALTER TABLE sales ADD COLUMN cash_session_id INTEGER REFERENCES cash_sessions(id);
        CREATE INDEX idx_sales_cash_session ON sales(cash_session_id);

        CREATE TABLE inutilizacoes (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            serie INTEGER NOT NULL,
            numero_inicial INTEGER NOT NULL,
            numero_final INTEGER NOT NULL,
            justificativa TEXT NOT NULL,
            status TEXT NOT NULL,
            status_sefaz TEXT,
            mensagem_sefaz TEXT,
            response TEXT,
            user_id INTEGER REFERENCES users(id)
        );
        """,
    )


def _m004_document_owner(db: Database) -> None:
    # Which process is sending a document (services.locks): a crashed owner is taken over at once.
    _run(db, "ALTER TABLE fiscal_documents ADD COLUMN owner TEXT;")


def _m_print_jobs(db: Database) -> None:
    # Thermal prints of a DANFCe (original / second copy) and those waiting for the printer.
    _run(
        db,
        """
        CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES fiscal_documents(id),
            kind TEXT NOT NULL CHECK (kind IN ('original', 'segunda_via')),
            status TEXT NOT NULL CHECK (status IN ('pendente', 'impresso', 'descartado')),
            printer TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            requested_by INTEGER REFERENCES users(id),
            authorized_by INTEGER REFERENCES users(id),
            open_drawer INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            printed_at TEXT
        );
        CREATE INDEX idx_print_jobs_status ON print_jobs(status);
        CREATE INDEX idx_print_jobs_document ON print_jobs(document_id);
        """,
    )


def _m_backoffice_cte_rps(db: Database) -> None:
    """Back office: issued CT-e / CT-e OS with numbering and history, CT-e inutilizações, received
    CT-e with the incremental-sync mark (greatest ``versao`` per CNPJ), RPS batches with history."""
    _run(
        db,
        """
        CREATE TABLE ctes_emitidos (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            modelo INTEGER NOT NULL CHECK (modelo IN (57, 67)),
            status TEXT NOT NULL,
            ambiente TEXT NOT NULL,
            cnpj_emitente TEXT NOT NULL,
            serie INTEGER NOT NULL,
            numero INTEGER NOT NULL,
            chave TEXT,
            valor_total TEXT,
            tomador TEXT,
            payload TEXT NOT NULL,
            status_sefaz TEXT,
            mensagem_sefaz TEXT,
            caminho_xml TEXT,
            caminho_dacte TEXT,
            caminho_xml_cancelamento TEXT,
            caminho_xml_carta_correcao TEXT,
            cartas_correcao INTEGER NOT NULL DEFAULT 0,
            xml_path TEXT,
            last_error TEXT,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (modelo, serie, numero)
        );
        CREATE INDEX idx_ctes_emitidos_status ON ctes_emitidos(status);

        CREATE TABLE cte_events (
            id INTEGER PRIMARY KEY,
            cte_id INTEGER NOT NULL REFERENCES ctes_emitidos(id),
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            http_status INTEGER,
            response TEXT,
            note TEXT
        );
        CREATE INDEX idx_cte_events_cte ON cte_events(cte_id);

        CREATE TABLE cte_counters (
            modelo INTEGER NOT NULL,
            serie INTEGER NOT NULL,
            next_numero INTEGER NOT NULL CHECK (next_numero >= 1),
            PRIMARY KEY (modelo, serie)
        );

        CREATE TABLE cte_inutilizacoes (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            cnpj TEXT NOT NULL,
            modelo INTEGER NOT NULL,
            serie INTEGER NOT NULL,
            numero_inicial INTEGER NOT NULL,
            numero_final INTEGER NOT NULL,
            justificativa TEXT NOT NULL,
            status TEXT NOT NULL,
            status_sefaz TEXT,
            mensagem_sefaz TEXT,
            caminho_xml TEXT,
            response TEXT,
            user_id INTEGER REFERENCES users(id)
        );

        CREATE TABLE ctes_recebidos (
            id INTEGER PRIMARY KEY,
            cnpj TEXT NOT NULL,
            chave TEXT NOT NULL,
            versao INTEGER NOT NULL,
            situacao TEXT NOT NULL,
            nome_emitente TEXT,
            documento_emitente TEXT,
            valor_total TEXT,
            data_emissao TEXT,
            tipo_cte TEXT,
            digest_value TEXT,
            carta_correcao TEXT,
            data_carta_correcao TEXT,
            data_cancelamento TEXT,
            justificativa_cancelamento TEXT,
            desacordo_status TEXT,
            desacordo_observacoes TEXT,
            desacordo_protocolo TEXT,
            desacordo_mensagem TEXT,
            desacordo_em TEXT,
            desacordo_user_id INTEGER REFERENCES users(id),
            desacordo_resposta TEXT,
            raw TEXT NOT NULL,
            synced_at TEXT NOT NULL,
            UNIQUE (cnpj, chave)
        );
        CREATE INDEX idx_ctes_recebidos_versao ON ctes_recebidos(cnpj, versao);
        CREATE INDEX idx_ctes_recebidos_emissao ON ctes_recebidos(cnpj, data_emissao);

        CREATE TABLE ctes_recebidos_sync (
            cnpj TEXT PRIMARY KEY,
            max_versao INTEGER NOT NULL,
            total INTEGER,
            synced_at TEXT NOT NULL
        );

        CREATE TABLE lotes_rps (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            ambiente TEXT NOT NULL,
            cnpj_prestador TEXT NOT NULL,
            quantidade INTEGER NOT NULL,
            valor_total TEXT NOT NULL,
            payload TEXT NOT NULL,
            arquivo BLOB,
            content_type TEXT,
            arquivo_path TEXT,
            resposta_path TEXT,
            resultado TEXT,
            last_error TEXT,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE lote_rps_events (
            id INTEGER PRIMARY KEY,
            lote_id INTEGER NOT NULL REFERENCES lotes_rps(id),
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            http_status INTEGER,
            response TEXT,
            note TEXT
        );
        CREATE INDEX idx_lote_rps_events_lote ON lote_rps_events(lote_id);
        """,
    )


def _fiscal_0001_tax_groups(db: Database) -> None:
    """Tax groups (grupos tributários) referenced by products by name."""
    _run(
        db,
        """
        CREATE TABLE tax_groups (
            id INTEGER PRIMARY KEY,
            nome TEXT NOT NULL UNIQUE COLLATE NOCASE,
            icms_origem TEXT NOT NULL,
            icms_situacao_tributaria TEXT NOT NULL,
            icms_modalidade_base_calculo TEXT,
            icms_aliquota TEXT,
            icms_reducao_base_calculo TEXT,
            fcp_percentual TEXT,
            pis_situacao_tributaria TEXT,
            pis_aliquota_porcentual TEXT,
            cofins_situacao_tributaria TEXT,
            cofins_aliquota_porcentual TEXT,
            ibs_cbs_situacao_tributaria TEXT NOT NULL,
            ibs_cbs_classificacao_tributaria TEXT NOT NULL,
            cest TEXT,
            tributos_percentual TEXT,
            updated_at TEXT NOT NULL
        );
        ALTER TABLE products ADD COLUMN grupo_tributario TEXT COLLATE NOCASE;
        CREATE INDEX idx_products_grupo_tributario ON products(grupo_tributario);
        """,
    )


def _m_scale_indexes(db: Database) -> None:
    """Indexes that match what the screens and commands filter on (issue 20): payments of a sale,
    note number/key search for every note, the XML export by emission date, history by CPF,
    and partial indexes over the few documents still open (the rest are final)."""
    _run(
        db,
        """
        CREATE INDEX IF NOT EXISTS idx_payments_sale ON payments(sale_id);
        CREATE INDEX IF NOT EXISTS idx_docs_numero ON fiscal_documents(numero, serie) WHERE numero IS NOT NULL;
        CREATE INDEX IF NOT EXISTS idx_docs_chave ON fiscal_documents(chave) WHERE chave IS NOT NULL;
        CREATE INDEX IF NOT EXISTS idx_docs_emissao ON fiscal_documents(data_emissao);
        CREATE INDEX IF NOT EXISTS idx_docs_focus_open ON fiscal_documents(id)
            WHERE focus_contingencia = 1 AND focus_contingencia_efetivada = 0;
        CREATE INDEX IF NOT EXISTS idx_docs_xml_missing ON fiscal_documents(id)
            WHERE caminho_xml IS NOT NULL AND xml_path IS NULL;
        CREATE INDEX IF NOT EXISTS idx_sales_cpf ON sales(cpf) WHERE cpf IS NOT NULL;
        CREATE INDEX IF NOT EXISTS idx_cancel_intents_doc ON cancel_intents(document_id);
        CREATE INDEX IF NOT EXISTS idx_audit_target ON audit_log(target);
        CREATE INDEX IF NOT EXISTS idx_docs_replaces ON fiscal_documents(replaces_document_id)
            WHERE replaces_document_id IS NOT NULL;
        """,
    )


def _m_pix_charges(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE pix_charges (
            id INTEGER PRIMARY KEY,
            txid TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL DEFAULT 'dinamico',
            terminal_id TEXT NOT NULL,
            valor TEXT NOT NULL,
            expiracao INTEGER NOT NULL,
            status TEXT NOT NULL,
            copia_e_cola TEXT,
            criacao_psp TEXT,
            e2eid TEXT,
            pix_json TEXT,
            operador_id INTEGER REFERENCES users(id),
            cancelled_by INTEGER REFERENCES users(id),
            sale_id INTEGER REFERENCES sales(id),
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX idx_pix_charges_status ON pix_charges(status);
        CREATE INDEX idx_pix_charges_sale ON pix_charges(sale_id);

        CREATE TABLE pix_refunds (
            id INTEGER PRIMARY KEY,
            charge_id INTEGER NOT NULL REFERENCES pix_charges(id),
            e2eid TEXT NOT NULL,
            valor TEXT NOT NULL,
            motivo TEXT NOT NULL,
            dev_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            rtr_id TEXT,
            requested_by INTEGER REFERENCES users(id),
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (e2eid, motivo)
        );
        """,
    )


def _m_cnpj_0001_contingencia_539(db: Database) -> None:
    """Contingency notes already stuck on SEFAZ 539 (number of an authorized online note: the
    contingency series was the online one) get their own final state with the manager's explanation
    instead of "fix and resend", which could never work."""
    from pos_app.core.fiscal.document_status import DocumentStatus
    from pos_app.core.services.final_outcomes import explain_duplicate

    rows = db.query(
        "SELECT id, numero, serie, mensagem_sefaz FROM fiscal_documents "
        "WHERE status = ? AND status_sefaz = '539'",
        [DocumentStatus.CONTINGENCIA_ERRO],
    )
    for row in rows:
        db.execute(
            "UPDATE fiscal_documents SET status = ?, last_error = ?, next_attempt_at = NULL WHERE id = ?",
            [
                DocumentStatus.CONTINGENCIA_DUPLICADA,
                explain_duplicate(row["numero"], row["serie"], row["mensagem_sefaz"] or ""),
                row["id"],
            ],
        )


def _m_cnpj_0002_qrcode_offline(db: Database) -> None:
    """The v3 offline QR Code printed on a contingency note, kept when Focus's ``qrcode_url`` of the
    authorized note replaces it for reprints."""
    _run(db, "ALTER TABLE fiscal_documents ADD COLUMN qrcode_url_offline TEXT;")


# Upstream to the store database (issue 16): triggers write the outbox inside the very transaction that
# writes the sale, the document, the cash movement or the audit line; nothing can be committed without it.
_STORE_OUTBOX_TABLES = (
    ("sales", "INSERT"),
    ("fiscal_documents", "INSERT"),
    ("fiscal_documents", "UPDATE"),
    ("document_events", "INSERT"),
    ("cash_sessions", "INSERT"),
    ("cash_sessions", "UPDATE"),
    ("cash_movements", "INSERT"),
    ("audit_log", "INSERT"),
)


def _m_store_outbox(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE store_outbox (
            id INTEGER PRIMARY KEY,
            tabela TEXT NOT NULL,
            local_id INTEGER NOT NULL
        );
        CREATE TABLE store_sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    )
    for table, event in _STORE_OUTBOX_TABLES:
        db.execute(
            f"CREATE TRIGGER store_outbox_{table}_{event.lower()} AFTER {event} ON {table} "
            f"BEGIN INSERT INTO store_outbox (tabela, local_id) VALUES ('{table}', NEW.id); END"
        )


# Gate of the upstream outbox: a terminal that never joined a store database does not keep an outbox
# (it would grow forever: nothing drains it). ``store_sync_state`` key ``upstream`` marks a terminal
# that joined; joining later queues the rows already on the terminal first (``store_outbox_backfill_sql``).
UPSTREAM_FLAG = "upstream"


def store_outbox_backfill_sql() -> list[str]:
    """One INSERT per upstream table queuing every row the terminal already has (in id order)."""
    tables = dict.fromkeys(table for table, _event in _STORE_OUTBOX_TABLES)
    return [
        f"INSERT INTO store_outbox (tabela, local_id) SELECT '{table}', id FROM {table} ORDER BY id"  # noqa: S608
        for table in tables
    ]


def _m_store_0002_outbox_gate(db: Database) -> None:
    for table, event in _STORE_OUTBOX_TABLES:
        name = f"store_outbox_{table}_{event.lower()}"
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM store_sync_state WHERE key = '{UPSTREAM_FLAG}') "
            f"BEGIN INSERT INTO store_outbox (tabela, local_id) VALUES ('{table}', NEW.id); END"
        )
    joined = db.execute(
        "SELECT 1 FROM store_sync_state UNION ALL "
        "SELECT 1 FROM settings WHERE key = 'loja.banco' AND value <> '' LIMIT 1"
    ).fetchone()
    if joined is not None:  # synced before or configured: keep what is queued, keep recording
        db.execute("INSERT OR IGNORE INTO store_sync_state (key, value) VALUES (?, '1')", [UPSTREAM_FLAG])
    else:  # alone: what is queued is queued again from the tables if it ever joins a store
        db.execute("DELETE FROM store_outbox")


# Edits made on a terminal that joined a store and must reach the others without a "publicar": a tax group
# removed (the row is gone, so a mark remembers it) and an operator added, blocked, renamed or given a new PIN.
# ``store_sync_state`` key ``enviar:<what>:<key>``; the value changes at every edit, so the sync thread deletes
# the mark only if nothing changed it meanwhile (``core.storeserver.local_edits``).
LOCAL_EDIT_PREFIX = "enviar:"


def _m_pix_0002_static_brcode(db: Database) -> None:
    # The BR Code a static PIX showed at the counter, kept with the payment: a reprint prints the same QR
    # even after the store changes its key (sales before this migration rebuild it, as they did).
    _run(db, "ALTER TABLE payments ADD COLUMN pix_brcode TEXT;")


def _m_store2_0001_local_edits(db: Database) -> None:
    gate = f"WHEN EXISTS (SELECT 1 FROM store_sync_state WHERE key = '{UPSTREAM_FLAG}')"
    mark = "hex(randomblob(8))"
    for sql in (
        f"CREATE TRIGGER store2_tax_group_deleted AFTER DELETE ON tax_groups {gate} BEGIN "
        f"INSERT OR REPLACE INTO store_sync_state (key, value) "
        f"VALUES ('{LOCAL_EDIT_PREFIX}grupo_excluido:' || lower(OLD.nome), {mark}); END",
        f"CREATE TRIGGER store2_tax_group_created AFTER INSERT ON tax_groups BEGIN "
        f"DELETE FROM store_sync_state WHERE key = '{LOCAL_EDIT_PREFIX}grupo_excluido:' || lower(NEW.nome); END",
        f"CREATE TRIGGER store2_user_added AFTER INSERT ON users {gate} BEGIN "
        f"INSERT OR REPLACE INTO store_sync_state (key, value) "
        f"VALUES ('{LOCAL_EDIT_PREFIX}usuario:' || NEW.codigo, {mark}); END",
        f"CREATE TRIGGER store2_user_changed AFTER UPDATE OF nome, papel, pin_hash, ativo ON users {gate} BEGIN "
        f"INSERT OR REPLACE INTO store_sync_state (key, value) "
        f"VALUES ('{LOCAL_EDIT_PREFIX}usuario:' || NEW.codigo, {mark}); END",
    ):
        db.execute(sql)


def _m_nfe_0001_clientes_modelo(db: Database) -> None:
    """NF-e model 55 for CNPJ buyers: the store's customer list (typed once, kept for next time) and
    the model of each fiscal document (65 NFC-e, 55 NF-e)."""
    _run(
        db,
        """
CREATE TABLE clientes (
    documento TEXT PRIMARY KEY,
    nome TEXT NOT NULL,
    indicador_ie TEXT NOT NULL DEFAULT '9',
    inscricao_estadual TEXT,
    logradouro TEXT NOT NULL,
    numero TEXT NOT NULL,
    complemento TEXT,
    bairro TEXT NOT NULL,
    codigo_municipio TEXT NOT NULL,
    municipio TEXT NOT NULL,
    uf TEXT NOT NULL,
    cep TEXT NOT NULL,
    email TEXT,
    telefone TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
ALTER TABLE fiscal_documents ADD COLUMN modelo INTEGER NOT NULL DEFAULT 65;
""",
    )


def _m_rel_pending_actions(db: Database) -> None:
    # Write-ahead log of every request that changes something on the API (cancel, inutilização,
    # e-mail...): stored before the request, resolved by a consult after a crash or no answer.
    _run(
        db,
        """
        CREATE TABLE pending_actions (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            document_id INTEGER REFERENCES fiscal_documents(id),
            request TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            resolved_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            outcome TEXT,
            result TEXT
        );
        CREATE INDEX idx_pending_actions_open ON pending_actions(status) WHERE status = 'pendente';
        """,
    )


def _m_scale_pack_texts(db: Database) -> None:
    """Compress the stored requests and raw API answers written before issue 20 (nothing is lost:
    ``store.packed.unpack_text`` gives the same text back)."""
    from pos_app.core.store.packed import pack_text

    db.conn.create_function("pos_pack_text", 1, pack_text, deterministic=True)
    db.execute(
        "UPDATE fiscal_documents SET payload = pos_pack_text(payload) "
        "WHERE typeof(payload) = 'text' AND length(payload) >= 128"
    )
    db.execute(
        "UPDATE document_events SET response = pos_pack_text(response) "
        "WHERE typeof(response) = 'text' AND length(response) >= 128"
    )


def _m_econf_0001_events(db: Database) -> None:
    # ECONF (Conciliação Financeira) events of the notes. A note with a card (03/04/05) or PIX (17/20)
    # payment that becomes authorized (online, replayed contingency, consult, reconciliation: whatever
    # path) is queued ('avaliar') by the same transaction, through these triggers; the background pass
    # reads the state rule and the store setting and builds the payload (core/services/econf.py).
    _run(
        db,
        """
        CREATE TABLE econf_events (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES fiscal_documents(id),
            ref TEXT NOT NULL,
            modelo INTEGER NOT NULL DEFAULT 65,
            origem TEXT NOT NULL CHECK (origem IN ('automatico', 'manual')),
            status TEXT NOT NULL,
            detalhes TEXT,
            numero_protocolo TEXT,
            numero_conciliacao INTEGER,
            caminho_xml TEXT,
            status_sefaz TEXT,
            mensagem_sefaz TEXT,
            cancel_numero INTEGER,
            cancel_caminho_xml TEXT,
            pending_action_id INTEGER REFERENCES pending_actions(id),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX idx_econf_document ON econf_events(document_id);
        CREATE INDEX idx_econf_status ON econf_events(status);
        CREATE UNIQUE INDEX idx_econf_auto ON econf_events(document_id) WHERE origem = 'automatico';
        CREATE TRIGGER econf_queue_on_update AFTER UPDATE OF status ON fiscal_documents
        WHEN NEW.status = 'autorizado' AND OLD.status IS NOT 'autorizado'
            AND EXISTS (SELECT 1 FROM payments WHERE sale_id = NEW.sale_id AND forma IN ('03', '04', '05', '17', '20'))
        BEGIN
            INSERT OR IGNORE INTO econf_events (document_id, ref, modelo, origem, status, created_at, updated_at)
            VALUES (NEW.id, NEW.ref, COALESCE(NEW.modelo, 65), 'automatico', 'avaliar',
                    strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
        END;
        CREATE TRIGGER econf_queue_on_insert AFTER INSERT ON fiscal_documents
        WHEN NEW.status = 'autorizado'
            AND EXISTS (SELECT 1 FROM payments WHERE sale_id = NEW.sale_id AND forma IN ('03', '04', '05', '17', '20'))
        BEGIN
            INSERT OR IGNORE INTO econf_events (document_id, ref, modelo, origem, status, created_at, updated_at)
            VALUES (NEW.id, NEW.ref, COALESCE(NEW.modelo, 65), 'automatico', 'avaliar',
                    strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
        END;
        """,
    )


# Customers shared by the store's terminals (issue store3): a customer saved, edited or removed on a terminal that
# joined a store is marked ``enviar:cliente:<cnpj>``; the sync thread sends the row, or its removal when it is gone.
CLIENTE_SYNC_COLUMNS = (
    "nome, indicador_ie, inscricao_estadual, logradouro, numero, complemento, bairro, "
    "codigo_municipio, municipio, uf, cep, email"
)


def _m_store3_0001_clientes_local_edits(db: Database) -> None:
    gate = f"WHEN EXISTS (SELECT 1 FROM store_sync_state WHERE key = '{UPSTREAM_FLAG}')"
    mark = f"INSERT OR REPLACE INTO store_sync_state (key, value) VALUES ('{LOCAL_EDIT_PREFIX}cliente:' || "
    for sql in (
        f"CREATE TRIGGER store3_cliente_added AFTER INSERT ON clientes {gate} BEGIN "
        f"{mark} NEW.documento, hex(randomblob(8))); END",
        f"CREATE TRIGGER store3_cliente_changed AFTER UPDATE OF {CLIENTE_SYNC_COLUMNS} ON clientes {gate} BEGIN "
        f"{mark} NEW.documento, hex(randomblob(8))); END",
        f"CREATE TRIGGER store3_cliente_deleted AFTER DELETE ON clientes {gate} BEGIN "
        f"{mark} OLD.documento, hex(randomblob(8))); END",
    ):
        db.execute(sql)


MIGRATIONS: list[Migration] = [
    ("001_base", _m001_base),
    ("002_products_fts", _m002_products_fts),
    ("003_manager_ops", _m003_manager_ops),
    ("004_document_owner", _m004_document_owner),
    ("005_print_jobs", _m_print_jobs),
    ("backoffice_cte_rps", _m_backoffice_cte_rps),
    ("fiscal_0001_tax_groups", _fiscal_0001_tax_groups),
    ("cnpj_0001_contingencia_539", _m_cnpj_0001_contingencia_539),
    ("cnpj_0002_qrcode_offline", _m_cnpj_0002_qrcode_offline),
    ("store_0001_outbox", _m_store_outbox),
    ("nfe_0001_clientes_modelo", _m_nfe_0001_clientes_modelo),
    ("scale_0001_indexes", _m_scale_indexes),
    ("scale_0002_pack_texts", _m_scale_pack_texts),
    ("pix_0001_charges", _m_pix_charges),
    ("rel_0001_pending_actions", _m_rel_pending_actions),
    ("store_0002_outbox_gate", _m_store_0002_outbox_gate),
    ("store2_0001_local_edits", _m_store2_0001_local_edits),
    ("pix_0002_static_brcode", _m_pix_0002_static_brcode),
    ("econf_0001_events", _m_econf_0001_events),
    ("store3_0001_clientes_local_edits", _m_store3_0001_clientes_local_edits),
]
