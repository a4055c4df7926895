"""Configuration keys, their validation and where they live.

Plain values live in the store's ``settings`` table. Secrets (the API token and the certificate
password) live in the operating system's credential store through ``secrets_store``; the
database only remembers that a secret is set.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from pos_app.core.domain.emitente import Emitente
from pos_app.core.domain.validators import UFS, is_valid_cnpj, normalize_cnpj, only_digits
from pos_app.core.errors import PosError
from pos_app.core.masking import register_secret
from pos_app.core.secrets_store import SecretStore
from pos_app.core.store import Store


class ConfigError(PosError, ValueError):
    """An invalid configuration value; the message is Portuguese and names the key."""

    kind = "configuracao"


def _choice(*options: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        v = value.strip().lower()
        if v not in options:
            raise ConfigError(f"valor inválido: use {' | '.join(options)}")
        return v

    return check


def _cnpj(value: str) -> str:
    digits = normalize_cnpj(value)
    if not is_valid_cnpj(value):
        raise ConfigError(f"CNPJ inválido: {value}")
    return digits


def _uf(value: str) -> str:
    v = value.strip().upper()
    if v not in UFS:
        raise ConfigError(f"UF desconhecida: {value}")
    return v


def _int_range(lo: int, hi: int, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            n = int(value.strip())
        except ValueError as exc:
            raise ConfigError(f"{what} deve ser um número inteiro") from exc
        if not lo <= n <= hi:
            raise ConfigError(f"{what} deve estar entre {lo} e {hi}")
        return str(n)

    return check


def _serie_contingencia(value: str) -> str:
    v = _int_range(1, 889, "Série")(value)
    return v


def _seconds(lo: float, hi: float) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            n = Decimal(value.strip().replace(",", "."))
        except InvalidOperation as exc:
            raise ConfigError("informe um número de segundos") from exc
        if not n.is_finite():
            raise ConfigError("informe um número de segundos")
        if not Decimal(str(lo)) <= n <= Decimal(str(hi)):
            raise ConfigError(f"deve estar entre {lo} e {hi} segundos")
        return str(n)

    return check


def _text(max_len: int, required: bool = True) -> Callable[[str], str]:
    def check(value: str) -> str:
        v = " ".join(value.split())
        if required and not v:
            raise ConfigError("não pode ficar em branco")
        if len(v) > max_len:
            raise ConfigError(f"no máximo {max_len} caracteres")
        return v

    return check


def _digits(n_min: int, n_max: int, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        d = only_digits(value)
        if not n_min <= len(d) <= n_max or (value.strip() and not re.fullmatch(r"[\d.\-/ ]+", value.strip())):
            raise ConfigError(f"{what} inválido: {value}")
        return d

    return check


def _ie(value: str) -> str:
    v = value.strip().upper()
    if v == "ISENTO":
        return v
    try:
        return _digits(2, 14, "Inscrição estadual")(v)
    except ConfigError as exc:  # feminine noun: "inválida"
        raise ConfigError(f"Inscrição estadual inválida: {value} (de 2 a 14 dígitos, ou ISENTO)") from exc


def _url(value: str) -> str:
    v = value.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", v):
        raise ConfigError("URL inválida (use http:// ou https://)")
    return v


def _pg_url(value: str) -> str:
    v = value.strip()
    try:
        parts = urlsplit(v)
        ok = (
            parts.scheme in ("postgresql", "postgres")
            and bool(parts.hostname)
            and not any(c.isspace() for c in v)
        )
        has_password = parts.password is not None
    except ValueError:
        ok, has_password = False, False
    if not ok:
        raise ConfigError("URL do banco da loja inválida: use postgresql://usuario@servidor:5432/banco")
    if has_password:
        raise ConfigError(
            "Não coloque a senha na URL: use pos-app config set loja.senha SENHA "
            "(ou pos-app loja conectar URL, que guarda a senha no cofre do sistema)."
        )
    return v


def _path(value: str) -> str:
    if not value.strip() or "\x00" in value:
        raise ConfigError("caminho de arquivo inválido")
    try:
        return str(Path(value.strip()).expanduser())
    except (RuntimeError, ValueError) as exc:  # "~usuario" unknown on this machine
        raise ConfigError(f"caminho de arquivo inválido: {value}") from exc


def _ref_id(value: str) -> str:
    v = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9_]{1,12}", v):
        raise ConfigError("use de 1 a 12 letras, dígitos ou '_'")
    return v


def _money(value: str) -> str:
    try:
        d = Decimal(value.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ConfigError("valor inválido") from exc
    if not d.is_finite() or d > Decimal("1e9"):
        raise ConfigError("valor inválido")
    if d < 0:
        raise ConfigError("não pode ser negativo")
    return str(d.quantize(Decimal("0.01")))


def _pix_url(value: str) -> str:
    from pos_app.core.pix.client import is_loopback_url

    v = _url(value)
    if not v.startswith("https://") and not is_loopback_url(v):
        raise ConfigError("use https:// (http:// só para 127.0.0.1/localhost: sandbox e testes)")
    return v


def _pix_chave(value: str) -> str:
    from pos_app.core.pix.brcode import BrCodeError, normalize_key

    try:
        return normalize_key(value)
    except BrCodeError as exc:
        raise ConfigError(str(exc)) from exc


@dataclass(frozen=True)
class Key:
    name: str
    label: str
    check: Callable[[str], str]
    default: str | None = None
    secret: bool = False


KEYS: dict[str, Key] = {
    k.name: k
    for k in [
        Key(
            "focus.ambiente",
            "Ambiente (sandbox = demonstração)",
            _choice("sandbox", "homologacao", "producao"),
            "sandbox",
        ),
        Key("focus.url", "URL da API (opcional: substitui a do ambiente)", _url),
        Key("focus.token", "Token da API Focus NFe", _text(200), secret=True),
        Key("focus.timeout", "Tempo máximo de espera pela emissão (s)", _seconds(2, 120), "15"),
        Key("emitente.cnpj", "CNPJ do emitente", _cnpj),
        Key("emitente.razao_social", "Razão social", _text(60)),
        Key("emitente.nome_fantasia", "Nome fantasia", _text(60, required=False)),
        Key("emitente.inscricao_estadual", "Inscrição estadual", _ie),
        Key("emitente.logradouro", "Logradouro", _text(60)),
        Key("emitente.numero", "Número", _text(60)),
        Key("emitente.bairro", "Bairro", _text(60)),
        Key("emitente.municipio", "Município", _text(60)),
        Key("emitente.codigo_municipio", "Código IBGE do município", _digits(7, 7, "Código do município")),
        Key("emitente.uf", "UF", _uf),
        Key("emitente.cep", "CEP", _digits(8, 8, "CEP")),
        Key("emitente.regime", "Regime tributário", _choice("simples", "normal"), "simples"),
        Key("emitente.telefone", "Telefone", _text(14, required=False)),
        Key("contingencia.serie", "Série de contingência deste terminal", _serie_contingencia, "600"),
        Key(
            "demo.empresa",
            "Empresa de demonstração (pr: Simples/PR; sp: regime normal/SP, CNPJ alfanumérico)",
            _choice("pr", "sp"),
            "pr",
        ),
        Key("nfce.serie", "Série da NFC-e online (a cadastrada na Focus)", _int_range(0, 889, "Série"), "1"),
        Key(
            "nfe.serie",
            "Série da NF-e online (modelo 55, a cadastrada na Focus)",
            _int_range(0, 889, "Série"),
            "1",
        ),
        Key(
            "nfe.serie_contingencia",
            "Série da NF-e em contingência deste terminal (modelo 55, geração prévia)",
            _serie_contingencia,
            "889",
        ),
        Key(
            "nfe.destinatario_cnpj",
            "Venda a CNPJ: auto (regra da UF), nfe (sempre NF-e) ou nfce (sempre NFC-e)",
            _choice("auto", "nfe", "nfce"),
            "auto",
        ),
        Key(
            "econf.modo",
            "Conciliação financeira (ECONF) de cartão/PIX: automatico (regra da UF), sempre ou nunca",
            _choice("automatico", "sempre", "nunca"),
            "automatico",
        ),
        Key(
            "armazenamento.reserva_mb",
            "Espaço livre mínimo em disco para aceitar novas vendas (MB; 0 desliga)",
            _int_range(0, 1_000_000, "Reserva"),
            "200",
        ),
        Key("certificado.arquivo", "Arquivo do certificado A1 (.pfx)", _path),
        Key("certificado.senha", "Senha do certificado A1", _text(200), secret=True),
        Key("terminal.id", "Identificação do terminal (única na loja)", _ref_id),
        Key(
            "venda.desconto_maximo_percentual",
            "Desconto máximo sem gerente (%)",
            _int_range(0, 100, "Percentual"),
            "10",
        ),
        # Typo guards (core/services/sale_guards.py; 0 turns a limit off) and the manager session.
        Key("venda.troco_maximo", "Troco acima deste valor pede confirmação (R$)", _money, "200.00"),
        Key(
            "venda.quantidade_maxima_item", "Quantidade por item acima desta pede o gerente", _money, "100.00"
        ),
        Key("venda.total_maximo", "Total da venda acima deste valor pede o gerente (R$)", _money, "5000.00"),
        Key(
            "gerente.sessao_minutos",
            "Minutos em que o gerente não digita o PIN de novo",
            _int_range(0, 240, "Minutos"),
            "5",
        ),
        Key("tela.cliente", "Tela do cliente no segundo monitor", _choice("nao", "sim"), "nao"),
        Key(
            "impressora.tipo",
            "Impressora",
            _choice("pdf", "rede", "usb", "serial", "windows", "arquivo"),
            "pdf",
        ),
        Key(
            "impressora.endereco",
            "Endereço da impressora (IP:porta, porta serial, nome no Windows)",
            _text(120, required=False),
        ),
        Key("impressora.colunas", "Colunas da impressora", _choice("48", "42", "32"), "48"),
        Key("impressora.largura_mm", "Largura do papel (mm)", _choice("80", "58"), "80"),
        Key("impressora.codepage", "Página de código", _choice("cp850", "cp860"), "cp850"),
        Key("impressora.gaveta_pino", "Pino da gaveta", _choice("2", "5"), "2"),
        Key(
            "impressora.modelo",
            "Modelo da impressora térmica (auto: genérica pela largura/colunas)",
            _choice(
                "auto",
                "epson_tm_t20",
                "elgin_i9",
                "bematech_mp4200",
                "daruma_dr800",
                "generico_80",
                "generico_80_42",
                "generico_58",
            ),
            "auto",
        ),
        Key("caixa.fundo_padrao", "Fundo de troco padrão (R$)", _money, "0.00"),
        # Receipt PDFs older than this are deleted (re-rendered on a reprint); 0 keeps them all.
        Key(
            "recibos.dias_guardar",
            "Dias que os PDFs de DANFCe ficam no disco (0: para sempre)",
            _int_range(0, 3650, "Dias"),
            "60",
        ),
        # Past years move to read-only yearly archives (arquivo-AAAA.sqlite3) a month after they end.
        Key(
            "historico.arquivar_anos",
            "Arquivar os anos encerrados em arquivos anuais",
            _choice("sim", "nao"),
            "sim",
        ),
        # Weighed goods: EAN-13 "2" + product code + value (5 digits before the check digit).
        Key("balanca.modo", "Etiqueta da balança traz o preço ou o peso", _choice("preco", "peso"), "preco"),
        # PIX: the PSP's API Pix (dynamic QR, forma 17) and the store's key (static QR, forma 20).
        Key("pix.url", "URL da API Pix do PSP (https://; http:// só em loopback)", _pix_url),
        Key("pix.client_id", "Client ID do PSP (OAuth2)", _text(200)),
        Key("pix.client_secret", "Client secret do PSP (OAuth2)", _text(500), secret=True),
        Key("pix.certificado", "Certificado do cliente do PSP (.p12/.pfx)", _path),
        Key("pix.certificado_senha", "Senha do certificado do PSP", _text(200), secret=True),
        Key("pix.ca", "Autoridade certificadora extra do PSP (PEM, opcional)", _path),
        Key("pix.cnpj_psp", "CNPJ do PSP (credenciadora na NFC-e)", _cnpj),
        Key("pix.chave", "Chave PIX da loja (CPF/CNPJ, e-mail, +55 telefone ou aleatória)", _pix_chave),
        Key(
            "pix.qr_no_cupom",
            "Imprimir no cupom o QR do pagamento PIX (estático e dinâmico)",
            _choice("sim", "nao"),
            "nao",
        ),
        Key(
            "pix.expiracao", "Validade da cobrança PIX dinâmica (s)", _int_range(30, 3600, "Validade"), "300"
        ),
        Key(
            "balanca.digitos_codigo",
            "Dígitos do código do produto na etiqueta da balança",
            _choice("4", "5", "6"),
            "6",
        ),
        # Store database (issue 16): URL without the password; the password lives in the credential store.
        Key("loja.banco", "Banco da loja (PostgreSQL: postgresql://usuario@servidor:5432/banco)", _pg_url),
        Key("loja.senha", "Senha do banco da loja", _text(200), secret=True),
        Key(
            "loja.limite_focus",
            "Requisições por minuto do token Focus (todos os terminais)",
            _int_range(1, 10000, "Limite"),
            "100",
        ),
    ]
}


SERIES_KEYS = {"contingencia.serie": "nfce.serie", "nfce.serie": "contingencia.serie"}
"""The two series that must differ, each pointing to the other."""

NFE_CONTINGENCY_SERIES_KEY = "nfe.serie_contingencia"
NFE_SERIES_OTHERS = ("nfe.serie", "contingencia.serie", "nfce.serie")
"""The NF-e contingency series must differ from each of these (and they from it)."""


class Config:
    """Typed view over settings + secrets."""

    def __init__(self, store: Store, secrets: SecretStore) -> None:
        self.store = store
        self.secrets = secrets

    # -- generic -------------------------------------------------------------------------
    def set(self, key: str, value: str) -> str:
        spec = KEYS.get(key)
        if spec is None:
            raise ConfigError(f"Chave desconhecida: {key}. Use 'pos-app config show' para ver as chaves.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # e.g. bytes of another encoding in a command line
            raise ConfigError(f"{key}: caracteres inválidos no valor") from exc
        try:
            normalized = spec.check(value)
        except ConfigError as exc:
            raise ConfigError(f"{key}: {exc}") from exc
        conflict = self.series_conflict(key, normalized) or self.nfe_series_conflict(key, normalized)
        if conflict:
            raise ConfigError(f"{key}: {conflict}")
        if spec.secret:
            register_secret(normalized)  # masked in every log line from now on
            self.secrets.set(key, normalized)
            self.store.settings.set(key, "__secret__")
        else:
            self.store.settings.set(key, normalized)
        return normalized

    def series_conflict(self, key: str, value: str, other: str | None = None) -> str | None:
        """Why ``value`` for ``key`` would make the contingency series equal the online series.

        The contingency series must never be the online one: the first contingency note would
        reuse an authorized number and SEFAZ answers 539, which no correction can fix. Checked
        whichever of the two keys is set (``other``: the other key's value when it is being
        edited too, as in the settings window; default: its saved value)."""
        if key not in SERIES_KEYS:
            return None
        other_key = SERIES_KEYS[key]
        other_value = other if other is not None else self.get(other_key)
        try:
            mine, theirs = int(value), int(other_value or "")
        except ValueError:
            return None
        if mine == theirs:
            other_name = "série online" if key == "contingencia.serie" else "série de contingência"
            return (
                f"a série de contingência e a série online não podem ser iguais ({other_name} = {theirs}): a "
                "primeira nota em contingência repetiria um número já autorizado (rejeição 539). "
                "Use outra série (ex.: 600 para a contingência)."
            )
        if key == "contingencia.serie":
            used = self.store.database.query_one(
                "SELECT serie FROM fiscal_documents WHERE kind = 'online' AND serie = ? LIMIT 1", [mine]
            )
            if used is not None:
                return (
                    f"a série {mine} já tem notas online autorizadas neste terminal: não pode ser a série de "
                    "contingência (rejeição 539). Use outra série (ex.: 600)."
                )
        return None

    def nfe_series_conflict(
        self, key: str, value: str, pending: dict[str, str | None] | None = None
    ) -> str | None:
        """Why ``value`` for ``key`` would make the NF-e contingency series collide with another one.

        Its numbers are taken locally like the NFC-e contingency's (one counter per series on this
        terminal) and must never repeat a number of the online NF-e series (rejection 539), so it
        differs from ``nfe.serie``, ``contingencia.serie`` and ``nfce.serie``. ``pending``: values of
        the other keys being edited at the same time (settings window)."""
        if key != NFE_CONTINGENCY_SERIES_KEY and key not in NFE_SERIES_OTHERS:
            return None
        pending = pending or {}

        def current(name: str) -> str | None:
            return pending.get(name) or self.get(name)

        others = NFE_SERIES_OTHERS if key == NFE_CONTINGENCY_SERIES_KEY else (NFE_CONTINGENCY_SERIES_KEY,)
        try:
            mine = int(value)
        except ValueError:
            return None
        for other in others:
            try:
                theirs = int(current(other) or "")
            except ValueError:
                continue
            if mine == theirs:
                hint = (
                    "Use outra série (ex.: 889)."
                    if key == NFE_CONTINGENCY_SERIES_KEY
                    else "Use outra série ou mude antes nfe.serie_contingencia."
                )
                return (
                    f"a série {mine} já é {other}: a série da NF-e em contingência "
                    "(nfe.serie_contingencia) deve ser só dela, diferente das séries online e de "
                    f"contingência da NFC-e e da série online da NF-e (números repetidos ou pulados). {hint}"
                )
        if key == NFE_CONTINGENCY_SERIES_KEY:
            used = self.store.database.query_one(
                "SELECT serie FROM fiscal_documents WHERE kind = 'online' AND serie = ? LIMIT 1", [mine]
            )
            if used is not None:
                return (
                    f"a série {mine} já tem notas online autorizadas neste terminal: não pode ser a série "
                    "da NF-e em contingência (rejeição 539). Use outra série (ex.: 889)."
                )
        return None

    def unset(self, key: str) -> None:
        spec = KEYS.get(key)
        if spec and spec.secret:
            self.secrets.delete(key)
        self.store.settings.delete(key)

    def get(self, key: str) -> str | None:
        spec = KEYS.get(key)
        if spec and spec.secret:
            secret = self.secrets.get(key) if self.store.settings.get(key) else None
            register_secret(secret)  # masked in every log line from now on
            return secret
        value = self.store.settings.get(key)
        if value is None and spec is not None:
            return spec.default
        return value

    def is_set(self, key: str) -> bool:
        return self.store.settings.get(key) is not None

    def show(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for name, spec in KEYS.items():
            value = self.get(name)
            if spec.secret and value:
                out[name] = mask(value)
            else:
                out[name] = value
        return out

    # -- typed accessors -----------------------------------------------------------------
    @property
    def ambiente(self) -> str:
        return self.get("focus.ambiente") or "sandbox"

    @property
    def demo(self) -> bool:
        return self.ambiente == "sandbox"

    @property
    def timeout(self) -> float:
        return float(self.get("focus.timeout") or 15)

    @property
    def contingencia_serie(self) -> int:
        return int(self.get("contingencia.serie") or 600)

    @property
    def nfe_contingencia_serie(self) -> int:
        """Series of this terminal's NF-e issued in contingency (numbered locally)."""
        return int(self.get(NFE_CONTINGENCY_SERIES_KEY) or 889)

    @property
    def nfce_serie(self) -> int:
        """Series of the online NFC-e (as registered at Focus; the API numbers them)."""
        return int(self.get("nfce.serie") or 1)

    @property
    def terminal_id(self) -> str:
        value = self.store.settings.get("terminal.id")
        if not value:
            value = "T" + uuid.uuid4().hex[:6].upper()
            self.store.settings.set("terminal.id", value)
        return value

    def emitente(self) -> Emitente | None:
        """The configured emitter, or None if any required field is missing."""
        names = [
            "cnpj",
            "razao_social",
            "nome_fantasia",
            "inscricao_estadual",
            "logradouro",
            "numero",
            "bairro",
            "municipio",
            "codigo_municipio",
            "uf",
            "cep",
            "regime",
            "telefone",
        ]
        values = {n: self.get(f"emitente.{n}") or "" for n in names}
        required = [n for n in names if n not in ("nome_fantasia", "telefone")]
        if any(not values[n] for n in required):
            return None
        return Emitente(**values)  # type: ignore[arg-type]  # regime checked by its Key


def mask(value: str) -> str:
    """Secrets are never shown, only whether they are set."""
    return "******** (definido)" if value else ""
