"""PostgreSQL connection (short timeouts) and the store database's named migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pos_app.core.errors import PosError

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 4000


class StoreDbError(PosError, RuntimeError):
    """The store database is unreachable or refused an operation."""

    kind = "loja"


def available() -> bool:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True


def strip_password(url: str) -> tuple[str, str | None]:
    """``postgresql://u:pw@h/db`` -> (``postgresql://u@h/db``, ``pw``): the password goes to the credential store."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    host = netloc[1] if len(netloc) == 2 else netloc[0]
    return urlunsplit(
        (parts.scheme, f"{user}@{host}" if user else host, parts.path, parts.query, parts.fragment)
    ), parts.password


def connect(
    url: str, password: str | None = None, *, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS
) -> Any:
    """A psycopg connection (autocommit off) that gives up quickly when the server is away."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise StoreDbError("Suporte à loja não instalado: pip install 'pos-app[loja]'.") from exc
    kwargs: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "options": f"-c statement_timeout={int(statement_timeout_ms)} -c lock_timeout={int(statement_timeout_ms)}",
        "application_name": "pos-app",
        # a link that dies mid-query must not hang a thread for the kernel's TCP timeout (minutes)
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": 3000,
    }
    if password:
        kwargs["password"] = password
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.Error as exc:
        raise StoreDbError(f"Banco da loja inacessível: {exc}".strip()) from exc


# ---------------------------------------------------------------------------------------------
# Migrations (append only)

_M001 = """
CREATE SEQUENCE loja_versao;

CREATE TABLE loja_produtos (
    codigo TEXT PRIMARY KEY,
    ean TEXT,
    descricao TEXT NOT NULL,
    ncm TEXT NOT NULL,
    cfop TEXT NOT NULL,
    unidade TEXT NOT NULL,
    preco NUMERIC(14, 4) NOT NULL CHECK (preco >= 0),
    icms_origem TEXT NOT NULL DEFAULT '0',
    icms_situacao_tributaria TEXT NOT NULL,
    tributos_percentual NUMERIC(7, 4) NOT NULL DEFAULT 0,
    cest TEXT,
    ativo BOOLEAN NOT NULL DEFAULT TRUE,
    versao BIGINT NOT NULL DEFAULT nextval('loja_versao'),
    alterado_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    alterado_por TEXT
);
CREATE INDEX loja_produtos_versao ON loja_produtos (versao);

CREATE TABLE loja_usuarios (
    codigo TEXT PRIMARY KEY,
    nome TEXT NOT NULL,
    papel TEXT NOT NULL CHECK (papel IN ('gerente', 'caixa')),
    pin_hash TEXT NOT NULL,
    ativo BOOLEAN NOT NULL DEFAULT TRUE,
    versao BIGINT NOT NULL DEFAULT nextval('loja_versao'),
    alterado_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    alterado_por TEXT
);
CREATE INDEX loja_usuarios_versao ON loja_usuarios (versao);

CREATE TABLE loja_config (
    chave TEXT PRIMARY KEY,
    valor TEXT,
    versao BIGINT NOT NULL DEFAULT nextval('loja_versao'),
    alterado_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    alterado_por TEXT
);
CREATE INDEX loja_config_versao ON loja_config (versao);

CREATE TABLE loja_alteracoes (
    versao BIGINT PRIMARY KEY,
    entidade TEXT NOT NULL,
    chave TEXT NOT NULL,
    em TIMESTAMPTZ NOT NULL DEFAULT now(),
    por TEXT,
    dados JSONB NOT NULL
);

CREATE FUNCTION loja_versionar() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.versao := nextval('loja_versao');
    NEW.alterado_em := now();
    INSERT INTO loja_alteracoes (versao, entidade, chave, por, dados)
    VALUES (NEW.versao, TG_TABLE_NAME, TG_ARGV[0] || ':' || COALESCE(
        CASE TG_TABLE_NAME WHEN 'loja_config' THEN to_jsonb(NEW)->>'chave' ELSE to_jsonb(NEW)->>'codigo' END, ''),
        NEW.alterado_por, to_jsonb(NEW) - 'pin_hash');
    RETURN NEW;
END $$;
CREATE TRIGGER loja_produtos_versao BEFORE INSERT OR UPDATE ON loja_produtos
    FOR EACH ROW EXECUTE FUNCTION loja_versionar('produto');
CREATE TRIGGER loja_usuarios_versao BEFORE INSERT OR UPDATE ON loja_usuarios
    FOR EACH ROW EXECUTE FUNCTION loja_versionar('usuario');
CREATE TRIGGER loja_config_versao BEFORE INSERT OR UPDATE ON loja_config
    FOR EACH ROW EXECUTE FUNCTION loja_versionar('config');

CREATE TABLE loja_terminais (
    terminal_id TEXT PRIMARY KEY,
    registrado_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    visto_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    versao_aplicada BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE loja_series (
    serie INTEGER PRIMARY KEY CHECK (serie BETWEEN 1 AND 999),
    terminal_id TEXT NOT NULL REFERENCES loja_terminais (terminal_id),
    tipo TEXT NOT NULL CHECK (tipo IN ('online', 'contingencia')),
    registrada_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (terminal_id, tipo)
);

-- Upstream: every terminal row, idempotent by (terminal, table, local id).
CREATE TABLE loja_registros (
    terminal_id TEXT NOT NULL,
    tabela TEXT NOT NULL,
    local_id BIGINT NOT NULL,
    dados JSONB NOT NULL,
    recebido_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    atualizado_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (terminal_id, tabela, local_id)
);
CREATE INDEX loja_registros_tabela ON loja_registros (tabela, terminal_id);

-- One Focus budget per token (token bucket).
CREATE TABLE loja_orcamento_focus (
    token_hash TEXT PRIMARY KEY,
    por_minuto INTEGER NOT NULL,
    reserva_ao_vivo INTEGER NOT NULL,
    fichas DOUBLE PRECISION NOT NULL,
    atualizado_em TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
"""

_M002 = """
CREATE VIEW loja_vendas AS
SELECT r.terminal_id, r.local_id AS venda_id,
       (r.dados->>'created_at')::timestamptz AS criada_em,
       (r.dados->>'valor_total')::numeric AS valor_total,
       NULLIF(r.dados->>'operador_id', '')::bigint AS operador_id,
       r.dados->>'operador_codigo' AS operador,
       NULLIF(r.dados->>'cash_session_id', '')::bigint AS caixa_id,
       r.dados
FROM loja_registros r WHERE r.tabela = 'sales';

CREATE VIEW loja_documentos AS
SELECT r.terminal_id, r.local_id AS documento_id,
       NULLIF(r.dados->>'sale_id', '')::bigint AS venda_id,
       r.dados->>'status' AS status, r.dados->>'kind' AS tipo,
       NULLIF(r.dados->>'serie', '')::int AS serie, NULLIF(r.dados->>'numero', '')::bigint AS numero,
       r.dados->>'chave' AS chave, r.dados
FROM loja_registros r WHERE r.tabela = 'fiscal_documents';
"""

# Tax groups (grupos tributários, from the fiscal branch) flow down like products: versioned rows in the
# change log, applied on each terminal in the same SQLite transaction as the products that name them.
_M003 = """
ALTER TABLE loja_produtos ADD COLUMN grupo_tributario TEXT;

CREATE TABLE loja_grupos_tributarios (
    nome TEXT PRIMARY KEY,
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
    versao BIGINT NOT NULL DEFAULT nextval('loja_versao'),
    alterado_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    alterado_por TEXT
);
CREATE UNIQUE INDEX loja_grupos_tributarios_nome_ci ON loja_grupos_tributarios (lower(nome));
CREATE INDEX loja_grupos_tributarios_versao ON loja_grupos_tributarios (versao);

-- The change log is written AFTER the row (an upsert that changed nothing, ON CONFLICT ... WHERE false,
-- fires BEFORE INSERT but writes no row: it must leave no entry in the log).
CREATE OR REPLACE FUNCTION loja_versionar() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.versao := nextval('loja_versao');
    NEW.alterado_em := now();
    RETURN NEW;
END $$;
CREATE FUNCTION loja_registrar_alteracao() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO loja_alteracoes (versao, entidade, chave, por, dados)
    VALUES (NEW.versao, TG_TABLE_NAME, TG_ARGV[0] || ':' || COALESCE(
        CASE TG_TABLE_NAME WHEN 'loja_config' THEN to_jsonb(NEW)->>'chave'
                           WHEN 'loja_grupos_tributarios' THEN to_jsonb(NEW)->>'nome'
                           ELSE to_jsonb(NEW)->>'codigo' END, ''),
        NEW.alterado_por, to_jsonb(NEW) - 'pin_hash');
    RETURN NULL;
END $$;
CREATE TRIGGER loja_grupos_tributarios_versao BEFORE INSERT OR UPDATE ON loja_grupos_tributarios
    FOR EACH ROW EXECUTE FUNCTION loja_versionar();
CREATE TRIGGER loja_produtos_alteracao AFTER INSERT OR UPDATE ON loja_produtos
    FOR EACH ROW EXECUTE FUNCTION loja_registrar_alteracao('produto');
CREATE TRIGGER loja_usuarios_alteracao AFTER INSERT OR UPDATE ON loja_usuarios
    FOR EACH ROW EXECUTE FUNCTION loja_registrar_alteracao('usuario');
CREATE TRIGGER loja_config_alteracao AFTER INSERT OR UPDATE ON loja_config
    FOR EACH ROW EXECUTE FUNCTION loja_registrar_alteracao('config');
CREATE TRIGGER loja_grupos_tributarios_alteracao AFTER INSERT OR UPDATE ON loja_grupos_tributarios
    FOR EACH ROW EXECUTE FUNCTION loja_registrar_alteracao('grupo_tributario');
"""

# Store-wide views (history pages, cash closings): the latest document of a sale and the sales of a cash
# session are looked up by expression; without these indexes each lookup scans every upstream row.
_M004 = """
CREATE INDEX loja_registros_doc_venda ON loja_registros (terminal_id, ((dados->>'sale_id')::bigint))
    WHERE tabela = 'fiscal_documents';
CREATE INDEX loja_registros_venda_caixa ON loja_registros (terminal_id, ((dados->>'cash_session_id')::bigint))
    WHERE tabela = 'sales';
CREATE INDEX loja_registros_venda_dia ON loja_registros ((left(dados->>'created_at', 10)))
    WHERE tabela = 'sales';
"""

# Deletes flow down: a tax group removed for the store stays as a versioned row marked ``excluido`` (terminals
# pulling it delete their copy); publishing the group again brings it back.
_M005 = """
ALTER TABLE loja_grupos_tributarios ADD COLUMN excluido BOOLEAN NOT NULL DEFAULT FALSE;
"""

# Each terminal numbers its NF-e contingency series itself (model 55 generated beforehand): the registry gives
# each one its own, like the NFC-e contingency series.
_M006 = """
ALTER TABLE loja_series DROP CONSTRAINT loja_series_tipo_check;
ALTER TABLE loja_series ADD CONSTRAINT loja_series_tipo_check
    CHECK (tipo IN ('online', 'contingencia', 'nfe_contingencia'));
"""

# Customers (``clientes``, the CNPJ buyers of NF-e model 55 sales) shared by every terminal. Only the fields the
# NF-e's recipient group carries (no phone, no local timestamps); a removal stays as a versioned ``excluido`` row
# with the personal fields erased. The change log keeps who changed which customer, not the address/IE/e-mail.
_M007 = """
CREATE TABLE loja_clientes (
    documento TEXT PRIMARY KEY,
    nome TEXT,
    indicador_ie TEXT,
    inscricao_estadual TEXT,
    logradouro TEXT,
    numero TEXT,
    complemento TEXT,
    bairro TEXT,
    codigo_municipio TEXT,
    municipio TEXT,
    uf TEXT,
    cep TEXT,
    email TEXT,
    excluido BOOLEAN NOT NULL DEFAULT FALSE,
    versao BIGINT NOT NULL DEFAULT nextval('loja_versao'),
    alterado_em TIMESTAMPTZ NOT NULL DEFAULT now(),
    alterado_por TEXT,
    CHECK (excluido OR (nome IS NOT NULL AND logradouro IS NOT NULL AND numero IS NOT NULL AND bairro IS NOT NULL
                        AND codigo_municipio IS NOT NULL AND municipio IS NOT NULL AND uf IS NOT NULL
                        AND cep IS NOT NULL AND indicador_ie IS NOT NULL))
);
CREATE INDEX loja_clientes_versao ON loja_clientes (versao);

CREATE OR REPLACE FUNCTION loja_registrar_alteracao() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO loja_alteracoes (versao, entidade, chave, por, dados)
    VALUES (NEW.versao, TG_TABLE_NAME, TG_ARGV[0] || ':' || COALESCE(
        CASE TG_TABLE_NAME WHEN 'loja_config' THEN to_jsonb(NEW)->>'chave'
                           WHEN 'loja_grupos_tributarios' THEN to_jsonb(NEW)->>'nome'
                           WHEN 'loja_clientes' THEN to_jsonb(NEW)->>'documento'
                           ELSE to_jsonb(NEW)->>'codigo' END, ''),
        NEW.alterado_por,
        CASE TG_TABLE_NAME WHEN 'loja_clientes' THEN jsonb_build_object(
                'documento', to_jsonb(NEW)->'documento', 'nome', to_jsonb(NEW)->'nome',
                'municipio', to_jsonb(NEW)->'municipio', 'uf', to_jsonb(NEW)->'uf',
                'excluido', to_jsonb(NEW)->'excluido', 'versao', to_jsonb(NEW)->'versao')
            ELSE to_jsonb(NEW) - 'pin_hash' END);
    RETURN NULL;
END $$;
CREATE TRIGGER loja_clientes_versao BEFORE INSERT OR UPDATE ON loja_clientes
    FOR EACH ROW EXECUTE FUNCTION loja_versionar();
CREATE TRIGGER loja_clientes_alteracao AFTER INSERT OR UPDATE ON loja_clientes
    FOR EACH ROW EXECUTE FUNCTION loja_registrar_alteracao('cliente');
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("loja_0001_base", _M001),
    ("loja_0002_views", _M002),
    ("loja_0003_grupos_tributarios", _M003),
    ("loja_0004_indices_vistas", _M004),
    ("loja_0005_grupos_excluidos", _M005),
    ("loja_0006_serie_contingencia_nfe", _M006),
    ("loja_0007_clientes", _M007),
]


def migrate(conn: Any, migrations: list[tuple[str, str]] | None = None) -> list[str]:
    """Apply the missing migrations (one transaction each, serialised by an advisory lock)."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(716016)")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS loja_migracoes (nome TEXT PRIMARY KEY, aplicada_em TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {r[0] for r in conn.execute("SELECT nome FROM loja_migracoes").fetchall()}
        for name, sql in migrations or MIGRATIONS:
            if name in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO loja_migracoes (nome) VALUES (%s)", [name])
            applied.append(name)
    return applied


Connector = Callable[[], Any]
