"""NFS-e by file: generate an RPS batch file for the city's site and import the city's answer."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.validators import is_valid_cnpj, is_valid_cpf, normalize_cnpj, only_digits
from pos_app.core.fiscal.document_status import LoteRpsStatus as L
from pos_app.core.fiscal.document_status import RpsAnswerStatus as R
from pos_app.core.fiscal.refs import new_ref_problem
from pos_app.core.focus.errors import ApiError, FocusError, InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.lotes_rps import LotesRpsApi
from pos_app.core.focus.nfce import REF_PATTERN
from pos_app.core.services.crashpoints import crash_point
from pos_app.core.store.db import iso, utcnow
from pos_app.core.store.lotes_rps import LotesRpsRepo

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

MAX_ANSWER_BYTES = 10 * 1024 * 1024
# A batch still 'enviando' this long after its last change was left by a crash or a closed program
# between the request and its answer (a live request ends within the client's timeout).
ABANDONED_AFTER = timedelta(minutes=2)
STATUS_LABELS = {
    L.PENDENTE: "Pendente (não enviado)", L.ENVIANDO: "Enviando", L.GERADO: "Arquivo gerado",
    L.REJEITADO: "Recusado pela API", L.EM_DUVIDA: "Sem resposta (consultar)",
    L.PROCESSADO: "NFS-e geradas", L.COM_ERROS: "Recusado pela prefeitura", L.PARCIAL: "Parcialmente processado",
}  # fmt: skip


def _decimal(value: Any, where: str, label: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(where, f"Valor inválido em {label}: {value!r}") from exc
    if not amount.is_finite():
        raise ValidationError(where, f"Valor inválido em {label}: {value!r}")
    return amount


def validate_lote(payload: dict[str, Any]) -> tuple[int, Decimal]:
    """Checks of an RPS batch before it is stored and sent: (number of RPS, total of services)."""
    prestador = payload.get("prestador")
    if not isinstance(prestador, dict):
        raise ValidationError(
            "prestador", "Informe o prestador (cnpj, inscricao_municipal, codigo_municipio)."
        )
    if not is_valid_cnpj(normalize_cnpj(str(prestador.get("cnpj") or ""))):
        raise ValidationError("prestador.cnpj", f"CNPJ do prestador inválido: {prestador.get('cnpj')!r}")
    if not str(prestador.get("inscricao_municipal") or "").strip():
        raise ValidationError("prestador.inscricao_municipal", "Informe a inscrição municipal do prestador.")
    if not re.fullmatch(r"\d{7}", str(prestador.get("codigo_municipio") or "").strip()):
        raise ValidationError("prestador.codigo_municipio", "Código IBGE do município do prestador inválido.")
    lista = payload.get("lista_nfse")
    if not isinstance(lista, list) or not lista:
        raise ValidationError("lista_nfse", "O lote não tem notas: informe a lista 'lista_nfse'.")
    total = Decimal(0)
    for i, nfse in enumerate(lista, start=1):
        where = f"lista_nfse[{i - 1}]"
        if not isinstance(nfse, dict):
            raise ValidationError(where, f"A nota {i} do lote deve ser um objeto JSON.")
        if not isinstance(nfse.get("data_emissao"), str):
            raise ValidationError(f"{where}.data_emissao", f"Nota {i}: informe a data de emissão.")
        try:
            datetime.fromisoformat(nfse["data_emissao"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError(f"{where}.data_emissao", f"Nota {i}: data de emissão inválida.") from exc
        servico = nfse.get("servico")
        if not isinstance(servico, dict):
            raise ValidationError(f"{where}.servico", f"Nota {i}: informe o serviço.")
        if not str(servico.get("discriminacao") or "").strip():
            raise ValidationError(
                f"{where}.servico.discriminacao", f"Nota {i}: informe a discriminação do serviço."
            )
        valor = _decimal(
            servico.get("valor_servicos"), f"{where}.servico.valor_servicos", f"nota {i}, valor dos serviços"
        )
        if valor <= 0:
            raise ValidationError(
                f"{where}.servico.valor_servicos", f"Nota {i}: o valor dos serviços deve ser maior que zero."
            )
        aliquota = _decimal(servico.get("aliquota"), f"{where}.servico.aliquota", f"nota {i}, alíquota")
        if not 0 <= aliquota <= 5:
            raise ValidationError(
                f"{where}.servico.aliquota", f"Nota {i}: alíquota do ISS deve estar entre 0 e 5%."
            )
        if not re.fullmatch(
            r"\d{3,5}", str(servico.get("item_lista_servico") or "").replace(".", "").strip()
        ):
            raise ValidationError(
                f"{where}.servico.item_lista_servico", f"Nota {i}: item da lista de serviço inválido."
            )
        tomador = nfse.get("tomador")
        if isinstance(tomador, dict):
            cnpj, cpf = tomador.get("cnpj"), tomador.get("cpf")
            if cnpj and not is_valid_cnpj(normalize_cnpj(str(cnpj))):
                raise ValidationError(f"{where}.tomador.cnpj", f"Nota {i}: CNPJ do tomador inválido.")
            if cpf and not is_valid_cpf(only_digits(str(cpf))):
                raise ValidationError(f"{where}.tomador.cpf", f"Nota {i}: CPF do tomador inválido.")
        total += valor
    return len(lista), total


@dataclass
class LoteOutcome:
    ref: str
    status: str
    mensagem: str
    quantidade: int = 0
    valor_total: str = "0.00"
    arquivo: str | None = None
    resultado: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (L.GERADO, L.PROCESSADO)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RpsService:
    def __init__(self, ctx: AppContext, *, api: LotesRpsApi | None = None) -> None:
        self.ctx = ctx
        self._api = api
        self.repo = LotesRpsRepo(ctx.store.database)

    @property
    def api(self) -> LotesRpsApi:
        if self._api is None:
            self._api = LotesRpsApi(self.ctx.client())
        return self._api

    def folder(self) -> Path:
        path = self.ctx.data_dir / "rps"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def prepare(self, payload: dict[str, Any]) -> dict[str, Any]:
        data = json.loads(json.dumps(payload))
        emitente = self.ctx.emitente()
        prestador = data.setdefault("prestador", {})
        if not isinstance(prestador, dict):
            raise ValidationError("prestador", "O prestador deve ser um objeto JSON.")
        prestador.setdefault("cnpj", emitente.cnpj)
        prestador.setdefault("codigo_municipio", emitente.codigo_municipio)
        if normalize_cnpj(str(prestador["cnpj"])) != emitente.cnpj:
            raise ValidationError(
                "prestador.cnpj", "O CNPJ do prestador difere do CNPJ configurado do emitente."
            )
        validate_lote(data)
        return data

    def gerar(
        self,
        payload: dict[str, Any],
        *,
        ref: str | None = None,
        dest: Path | None = None,
        user_id: int | None = None,
    ) -> LoteOutcome:
        """Store the batch, ask the API for the import file and save it (``dest`` or ``rps/REF.txt``)."""
        data = self.prepare(payload)
        quantidade, total = validate_lote(data)
        if ref is not None and not REF_PATTERN.match(ref):
            raise ValidationError("ref", f"Referência inválida: {ref!r} (letras, dígitos, '_' e '-').")
        existing = self.repo.by_ref(ref) if ref else None
        if ref and existing is None and new_ref_problem(ref):
            raise ValidationError("ref", str(new_ref_problem(ref)))
        if existing is not None and existing["status"] not in (L.PENDENTE, L.REJEITADO, L.EM_DUVIDA):
            raise ValidationError("ref", f"O lote {ref} já foi gerado: use 'lote-rps consultar {ref}'.")
        if existing is None:
            with self.repo.transaction() as tx:
                temp = ref or f"tmp_{datetime.now().timestamp()}".replace(".", "_")
                lote_id = self.repo.create(tx, ref=temp, ambiente=self.ctx.ambiente,
                                           cnpj_prestador=normalize_cnpj(str(data["prestador"]["cnpj"])),
                                           quantidade=quantidade, valor_total=f"{total:.2f}", payload=data,
                                           user_id=user_id)  # fmt: skip
                if ref is None:
                    tx.execute("UPDATE lotes_rps SET ref = ? WHERE id = ?",
                               [f"{self.ctx.config.terminal_id}_RPS_{lote_id:06d}", lote_id])  # fmt: skip
        else:
            lote_id = existing["id"]
            self.repo.transition(lote_id, L.PENDENTE, action="reenvio", payload=json.dumps(data, ensure_ascii=False),
                                 quantidade=quantidade, valor_total=f"{total:.2f}", last_error=None)  # fmt: skip
        lote = self.repo.get(lote_id)
        assert lote is not None
        return self._request(lote, data, dest)

    def _request(self, lote: dict[str, Any], data: dict[str, Any], dest: Path | None) -> LoteOutcome:
        ref = lote["ref"]
        self.repo.transition(lote["id"], L.ENVIANDO, action="gerar")
        crash_point("rps_before_post")
        try:
            file = self.api.create(ref, data)
        except (NotDelivered, RateLimited) as exc:
            self.repo.transition(
                lote["id"], L.PENDENTE, action="gerar", note="não enviado", last_error=str(exc)
            )
            return self._outcome(lote["id"], f"Lote não enviado: {exc} Tente de novo mais tarde.")
        except InDoubt as exc:
            self.repo.transition(lote["id"], L.EM_DUVIDA, action="gerar", note=str(exc), last_error=str(exc))
            return self._outcome(lote["id"], f"Sem resposta da API: {exc} Use 'lote-rps consultar {ref}'.")
        except ApiError as exc:
            self.repo.transition(
                lote["id"],
                L.REJEITADO,
                action="gerar",
                http_status=exc.status_code,
                response=exc.body,
                note=f"{exc.codigo}: {exc.mensagem}",
                last_error=str(exc),
            )
            return self._outcome(lote["id"], f"Lote recusado pela API: {exc}")
        crash_point("rps_after_post")
        path = self._save(ref, file.content, dest)
        self.repo.transition(lote["id"], L.GERADO, action="gerar", http_status=file.http_status,
                             note=f"{len(file.content)} bytes", arquivo=file.content, content_type=file.content_type,
                             arquivo_path=str(path), last_error=None)  # fmt: skip
        return self._outcome(
            lote["id"], f"Arquivo do lote {ref} gerado: {path}. Envie-o no site da prefeitura."
        )

    def _save(self, ref: str, content: bytes, dest: Path | None) -> Path:
        path = dest or self.folder() / f"{ref}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def resolve_open(self, *, older_than: timedelta = ABANDONED_AFTER) -> list[tuple[str, str]]:
        """Batches whose request never got its answer, resolved by a consult of their ref (the background
        sync calls it): ``em_duvida`` at once, ``enviando`` once abandoned. The API has it: the file is saved
        and the batch is ``gerado``. It does not: back to ``pendente`` (generate again, same ref). Nothing is
        sent again by itself. Returns (ref, result in Portuguese); stops at the first link failure."""
        done: list[tuple[str, str]] = []
        for row in self.repo.unanswered(iso(utcnow() - older_than)):
            ref = str(row["ref"])
            try:
                outcome = self.consultar(ref)
            except ValidationError:
                done.append((ref, "lote RPS não chegou à API: gere de novo (mesma referência)"))
                continue
            except FocusError:
                break  # link or API down: the next pass tries again
            done.append((ref, f"lote RPS gerado na API; arquivo salvo em {outcome.arquivo}"))
        return done

    def consultar(self, ref: str, *, dest: Path | None = None) -> LoteOutcome:
        """Fetch the import file again (also reconciles a batch left ``em_duvida``)."""
        if not REF_PATTERN.match(ref or ""):
            raise ValidationError("ref", f"Referência inválida: {ref!r}")
        lote = self.repo.by_ref(ref)
        file = self.api.consult(ref)
        if file is None:
            if lote is not None and lote["status"] in (L.EM_DUVIDA, L.ENVIANDO):
                self.repo.transition(lote["id"], L.PENDENTE, action="consulta", http_status=404,
                                     note="a API não conhece o lote: gere de novo")  # fmt: skip
            raise ValidationError("ref", f"Lote não encontrado na API: {ref}")
        path = self._save(ref, file.content, dest)
        if lote is None:
            return LoteOutcome(ref, L.GERADO, f"Arquivo do lote {ref} salvo em {path}.", arquivo=str(path))
        if lote["status"] in (L.EM_DUVIDA, L.ENVIANDO, L.PENDENTE):
            self.repo.transition(
                lote["id"],
                L.GERADO,
                action="consulta",
                http_status=file.http_status,
                arquivo=file.content,
                content_type=file.content_type,
                arquivo_path=str(path),
            )
        else:
            self.repo.update(lote["id"], arquivo_path=str(path))
        return self._outcome(lote["id"], f"Arquivo do lote {ref} salvo em {path}.")

    def resposta(self, ref: str, arquivo: Path, *, user_id: int | None = None) -> LoteOutcome:
        """Send the city's answer file; every RPS gets its NFS-e number or its error."""
        if not REF_PATTERN.match(ref or ""):
            raise ValidationError("ref", f"Referência inválida: {ref!r}")
        if not arquivo.is_file():
            raise ValidationError("arquivo", f"Arquivo de retorno não encontrado: {arquivo}")
        content = arquivo.read_bytes()
        if not content.strip():
            raise ValidationError("arquivo", "O arquivo de retorno da prefeitura está vazio.")
        if len(content) > MAX_ANSWER_BYTES:
            raise ValidationError("arquivo", "Arquivo de retorno grande demais (mais de 10 MB).")
        lote = self.repo.by_ref(ref)
        if lote is None:
            raise ValidationError("ref", f"Lote não encontrado neste terminal: {ref}")
        if lote["status"] in (L.PENDENTE, L.ENVIANDO, L.REJEITADO):
            raise ValidationError(
                "ref", f"O lote {ref} ainda não foi gerado ({STATUS_LABELS[lote['status']]})."
            )
        try:
            answers = self.api.send_answer(ref, content)
        except ApiError as exc:
            self.repo.transition(
                lote["id"],
                lote["status"],
                action="resposta",
                http_status=exc.status_code,
                response=exc.body,
                note=f"{exc.codigo}: {exc.mensagem}",
                last_error=str(exc),
            )
            raise
        results = [{"serie_rps": a.serie_rps, "numero_rps": a.numero_rps, "status": a.status, "numero": a.numero,
                    "codigo_verificacao": a.codigo_verificacao, "data_emissao": a.data_emissao, "uri": a.uri,
                    "caminho_xml_nota_fiscal": a.caminho_xml_nota_fiscal, "erros": a.erros}
                   for a in answers]  # fmt: skip
        statuses = {a.status for a in answers}
        if statuses == {R.AUTORIZADO}:
            status = L.PROCESSADO
        elif R.ERRO_AUTORIZACAO in statuses:
            status = L.COM_ERROS
        else:
            status = L.PARCIAL
        copy = self.folder() / f"{ref}-retorno-{datetime.now():%Y%m%d%H%M%S}.txt"
        copy.write_bytes(content)
        self.repo.transition(lote["id"], status, action="resposta", http_status=201, response=results,
                             resultado=json.dumps(results, ensure_ascii=False), resposta_path=str(copy),
                             last_error=None)  # fmt: skip
        ok = sum(1 for a in answers if a.authorized)
        mensagem = {
            L.PROCESSADO: f"{ok} NFS-e gerada(s) pela prefeitura.",
            L.COM_ERROS: "A prefeitura recusou o lote: nenhuma nota foi gerada. Corrija as RPS com erro.",
            L.PARCIAL: f"{ok} de {len(answers)} NFS-e gerada(s); as demais aguardam a prefeitura.",
        }[status]
        return self._outcome(lote["id"], mensagem, results)

    def require_batch(self, ref: str) -> None:
        """Refuse a ref that is not a batch of this terminal (ValidationError on ``ref``)."""
        if not REF_PATTERN.match(ref or "") or self.repo.by_ref(ref) is None:
            raise ValidationError("ref", f"Lote não encontrado neste terminal: {ref}")

    def batches(self) -> list[dict[str, Any]]:
        return self.repo.recent()

    def _outcome(
        self, lote_id: int, mensagem: str, resultado: list[dict[str, Any]] | None = None
    ) -> LoteOutcome:
        lote = self.repo.get(lote_id)
        assert lote is not None
        return LoteOutcome(lote["ref"], lote["status"], mensagem, int(lote["quantidade"]), lote["valor_total"],
                           lote["arquivo_path"], resultado or [])  # fmt: skip
