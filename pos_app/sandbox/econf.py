"""ECONF (Conciliação Financeira) on the sandbox: ``/v2/nfce/REF/econf`` and ``/v2/nfe/REF/econf``.

Follows ``focus-docs-2026/nfce.md`` / ``nfe.md`` "Conciliação Financeira – ECONF". Decisions where
the documentation is silent:

* The note must exist (404 ``nfce_nao_encontrada``/``nfe_nao_encontrada``, as the other routes) and be
  authorized (422 ``nfe_nao_autorizada``; a cancelled or still processing note included).
* The body is validated as Focus validates its JSON: 400 ``requisicao_invalida`` with one ``erros``
  entry per problem (``campo`` = ``detalhes_pagamento[i].campo``): 1..100 details; ``forma_pagamento``,
  ``valor_pagamento`` (positive, at most 2 decimals), ``data_pagamento`` (``AAAA-MM-DD``, not after the
  company's local date on the sandbox clock) required; ``uf_transacional`` with ``cnpj_transacional``,
  ``uf_beneficiario`` with ``cnpj_beneficiario``; every CNPJ valid (alphanumeric included, the
  project's ``is_valid_cnpj``); forma/bandeira/indicador from the documented value lists.
* SEFAZ answers: 200 with ``status`` ``autorizado`` and ``status_sefaz`` 135 (registered);
  rejections are 200 with ``status`` ``erro_autorizacao``, ``status_sefaz`` and ``mensagem_sefaz``:
  108 while the ``sefaz_down`` fault is on, the ``reject_ref`` fault's code for the note's ref (set after
  its authorization), 460 for a cancel out of sending order, 573 for a second cancel of the same event.
* Numbers: ``numero_protocolo`` is the sandbox's 15-digit protocol sequence;
  ``numero_conciliacao_financeira`` and ``numero_cancelamento_conciliacao_financeira`` share one
  per-note event sequence (nSeqEvento), as the documentation's examples (1, then 6) suggest.
* ``GET .../econf/PROTOCOLO`` answers the event as sent; after its cancellation ``status`` is
  ``cancelado`` (the documentation shows only the registered form). An unknown protocol (GET or
  DELETE): 422 ``object_not_found`` with the documented message.
* The event XML (tpEvento 110750, cancellation 110751) is a small unsigned ``procEventoNFe`` stored
  under the paths of the documentation's examples (``CHAVE-cf-NN.xml``, ``CHAVE-cf-canc-NN.xml``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from pos_app.core.domain.validators import is_valid_cnpj
from pos_app.core.fiscal.states import UF_CODES
from pos_app.sandbox.documents import local_time, tp_amb, xml_datetime
from pos_app.sandbox.engine import AUTORIZADO, MSG_SEFAZ_DOWN, XML_CT, ApiResponse, _parse_json, api_error

if TYPE_CHECKING:
    from pos_app.sandbox.engine import NfceSandbox
    from pos_app.sandbox.store import NoteRecord

MAX_DETALHES = 100
FORMAS = frozenset(
    ["01", "02", "03", "04", "05", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21"]
    + ["22", "90", "99"]
)
BANDEIRAS = frozenset([f"{n:02d}" for n in range(1, 28)] + ["99"])
INDICADORES = frozenset({"0", "1"})
MSG_REGISTRADO = "Evento registrado e vinculado a NF-e"
MSG_460 = "Rejeicao: Protocolo do Evento difere do cadastrado"
MSG_573 = "Rejeicao: Duplicidade de Evento"
NOT_FOUND_MSG = "A nota fiscal não possui um evento de conciliação financeira vinculado a esse protocolo."
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TP_EVENTO = "110750"
TP_EVENTO_CANCEL = "110751"


def _family(engine: NfceSandbox) -> str:
    return "nfe" if getattr(engine, "MODELO_FAMILY", "nfce") == "nfe" else "nfce"


def _note(engine: NfceSandbox, token: str, ref: str) -> tuple[NoteRecord | None, ApiResponse | None]:
    family = _family(engine)
    record = engine.store.get_note(token, ref)
    if record is None:
        return None, api_error(404, f"{family}_nao_encontrada", f"{family.upper()} não encontrada")
    body = engine.note_body(token, ref) or {}
    if record.status != AUTORIZADO or body.get("status") != AUTORIZADO:
        return None, api_error(422, "nfe_nao_autorizada", "Nota fiscal não autorizada")
    return record, None


def detail_errors(detalhes: Any, today: date) -> list[dict[str, str]]:
    """Every problem of ``detalhes_pagamento`` (empty: valid)."""
    if not isinstance(detalhes, list) or not 1 <= len(detalhes) <= MAX_DETALHES:
        return [
            {
                "codigo": "requisicao_invalida",
                "campo": "detalhes_pagamento",
                "mensagem": f'"detalhes_pagamento" deve ter de 1 a {MAX_DETALHES} itens',
            }
        ]
    erros: list[dict[str, str]] = []
    for i, item in enumerate(detalhes):

        def err(campo: str, mensagem: str, i: int = i) -> None:
            erros.append(
                {
                    "codigo": "requisicao_invalida",
                    "campo": f"detalhes_pagamento[{i}].{campo}",
                    "mensagem": mensagem,
                }
            )

        if not isinstance(item, dict):
            err("", "Cada detalhe de pagamento deve ser um objeto")
            continue
        forma = item.get("forma_pagamento")
        if forma in (None, ""):
            err("forma_pagamento", '"forma_pagamento" não informado')
        elif str(forma) not in FORMAS:
            err("forma_pagamento", f'"forma_pagamento" inválido: {forma!r}')
        indicador = item.get("indicador_pagamento")
        if indicador not in (None, "") and str(indicador) not in INDICADORES:
            err("indicador_pagamento", f'"indicador_pagamento" inválido: {indicador!r}')
        valor = item.get("valor_pagamento")
        if valor in (None, ""):
            err("valor_pagamento", '"valor_pagamento" não informado')
        else:
            try:
                amount = Decimal(str(valor))
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite():
                err("valor_pagamento", f'"valor_pagamento" inválido: {valor!r}')
            elif amount <= 0:
                err("valor_pagamento", '"valor_pagamento" deve ser maior que zero')
            elif -amount.as_tuple().exponent > 2:  # type: ignore[operator]
                err("valor_pagamento", '"valor_pagamento" deve ter no máximo 2 casas decimais')
        data = item.get("data_pagamento")
        if data in (None, ""):
            err("data_pagamento", '"data_pagamento" não informado')
        elif not isinstance(data, str) or not DATE_PATTERN.match(data):
            err("data_pagamento", f'"data_pagamento" inválida: {data!r} (use AAAA-MM-DD)')
        else:
            try:
                paid = date.fromisoformat(data)
            except ValueError:
                err("data_pagamento", f'"data_pagamento" inválida: {data!r}')
            else:
                if paid > today:
                    err(
                        "data_pagamento",
                        f'"data_pagamento" {data} posterior à data atual {today.isoformat()}',
                    )
        for cnpj_field, uf_field in (
            ("cnpj_transacional", "uf_transacional"),
            ("cnpj_beneficiario", "uf_beneficiario"),
            ("cnpj_instituicao_financeira", None),
        ):
            cnpj = item.get(cnpj_field)
            if cnpj in (None, ""):
                continue
            if not isinstance(cnpj, str) or not is_valid_cnpj(cnpj):
                err(cnpj_field, f'"{cnpj_field}" inválido: {cnpj!r}')
            if uf_field is not None:
                uf = item.get(uf_field)
                if uf in (None, ""):
                    err(uf_field, f'"{uf_field}" é obrigatório quando "{cnpj_field}" é informado')
                elif str(uf).upper() not in UF_CODES:
                    err(uf_field, f'"{uf_field}" inválida: {uf!r}')
        bandeira = item.get("bandeira_operadora")
        if bandeira not in (None, "") and str(bandeira) not in BANDEIRAS:
            err("bandeira_operadora", f'"bandeira_operadora" inválida: {bandeira!r}')
        autorizacao = item.get("numero_autorizacao")
        if autorizacao not in (None, "") and (not isinstance(autorizacao, str) or len(autorizacao) > 60):
            err("numero_autorizacao", '"numero_autorizacao" deve ser um texto de até 60 caracteres')
        descricao = item.get("descricao_pagamento")
        if descricao not in (None, "") and (not isinstance(descricao, str) or len(descricao) > 100):
            err("descricao_pagamento", '"descricao_pagamento" deve ser um texto de até 100 caracteres')
    return erros


def _rejection(status_sefaz: str, mensagem: str) -> ApiResponse:
    return ApiResponse(
        200, {"status_sefaz": status_sefaz, "mensagem_sefaz": mensagem, "status": "erro_autorizacao"}
    )


def _event_xml(
    engine: NfceSandbox,
    record: NoteRecord,
    tp_evento: str,
    seq: int,
    protocolo: str,
    now: datetime,
    detail: str,
) -> bytes:
    company = engine.companies[record.cnpj]
    when = xml_datetime(local_time(now, company.uf))
    ident = f"ID{tp_evento}{record.chave}{seq:02d}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<procEventoNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="1.00">'
        f'<evento versao="1.00"><infEvento Id="{ident}"><cOrgao>{company.cuf}</cOrgao>'
        f"<tpAmb>{tp_amb(engine.ambiente)}</tpAmb><CNPJ>{company.cnpj}</CNPJ><chNFe>{record.chave}</chNFe>"
        f"<dhEvento>{when}</dhEvento><tpEvento>{tp_evento}</tpEvento><nSeqEvento>{seq}</nSeqEvento>"
        f'<verEvento>1.00</verEvento><detEvento versao="1.00">{detail}</detEvento></infEvento></evento>'
        f'<retEvento versao="1.00"><infEvento><tpAmb>{tp_amb(engine.ambiente)}</tpAmb>'
        f"<cStat>135</cStat><xMotivo>{MSG_REGISTRADO}</xMotivo><chNFe>{record.chave}</chNFe>"
        f"<tpEvento>{tp_evento}</tpEvento><nSeqEvento>{seq}</nSeqEvento><dhRegEvento>{when}</dhRegEvento>"
        f"<nProt>{protocolo}</nProt></infEvento></retEvento></procEventoNFe>"
    ).encode()


def _detail_xml(detalhes: list[dict[str, Any]]) -> str:
    parts = []
    for item in detalhes:
        tags = "".join(
            f"<{k}>{escape(str(v))}</{k}>"
            for k, v in item.items()
            if v not in (None, "") and isinstance(k, str)
        )
        parts.append(f"<detPag>{tags}</detPag>")
    return "<descEvento>ECONF</descEvento>" + "".join(parts)


def _path(engine: NfceSandbox, record: NoteRecord, suffix: str) -> str:
    assert record.chave is not None and record.dh_emi is not None
    return engine._xml_path(record.cnpj, record.chave, datetime.fromisoformat(record.dh_emi), suffix)


def _event_body(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "status_sefaz": "135",
        "mensagem_sefaz": MSG_REGISTRADO,
        "status": "cancelado" if event.get("cancelado") else "autorizado",
        "caminho_xml_conciliacao_financeira": event["caminho_xml"],
        "numero_conciliacao_financeira": event["numero"],
        "numero_protocolo": event["protocolo"],
    }


def send(engine: NfceSandbox, token: str, ref: str, body: bytes) -> ApiResponse:
    payload, problem = _parse_json(body)
    if problem is not None:
        return problem
    with engine.store.transaction():
        record, problem = _note(engine, token, ref)
        if problem is not None:
            return problem
        assert record is not None
        company = engine.companies[record.cnpj]
        now = engine.clock.now()
        detalhes = payload.get("detalhes_pagamento") if isinstance(payload, dict) else None
        erros = detail_errors(detalhes, local_time(now, company.uf).date())
        if erros:
            return api_error(400, "requisicao_invalida", erros[0]["mensagem"], erros)
        if engine.faults.sefaz_down():
            return _rejection("108", MSG_SEFAZ_DOWN)
        chosen = engine.faults.take_rejection(ref, record.numero if record.numero is not None else -1)
        if chosen is not None:  # ``reject_ref`` set after the note's authorization: its ECONF is rejected
            return _rejection(str(chosen.params["status_sefaz"]), str(chosen.params["mensagem_sefaz"]))
        assert isinstance(detalhes, list)
        record.econf_seq += 1
        seq = record.econf_seq
        protocolo = engine._new_protocol(company, now)
        path = _path(engine, record, f"cf-{seq:02d}")
        engine.store.put_file(
            path, XML_CT, _event_xml(engine, record, TP_EVENTO, seq, protocolo, now, _detail_xml(detalhes))
        )
        event = {
            "protocolo": protocolo,
            "numero": seq,
            "caminho_xml": path,
            "detalhes": detalhes,
            "registrado_em": now.isoformat(),
            "cancelado": False,
        }
        record.econf = [*(record.econf or []), event]
        engine.store.put_note(record)
    return ApiResponse(200, _event_body(event))


def _find(record: NoteRecord, protocolo: str) -> dict[str, Any] | None:
    for event in record.econf or []:
        if event["protocolo"] == protocolo:
            return event
    return None


def consult(engine: NfceSandbox, token: str, ref: str, protocolo: str) -> ApiResponse:
    record = engine.store.get_note(token, ref)
    event = _find(record, protocolo) if record is not None else None
    if event is None:
        return api_error(422, "object_not_found", NOT_FOUND_MSG)
    return ApiResponse(200, _event_body(event))


def cancel(engine: NfceSandbox, token: str, ref: str, protocolo: str) -> ApiResponse:
    with engine.store.transaction():
        record = engine.store.get_note(token, ref)
        event = _find(record, protocolo) if record is not None else None
        if event is None or record is None:
            return api_error(422, "object_not_found", NOT_FOUND_MSG)
        if event.get("cancelado"):
            return _rejection("573", MSG_573)
        if engine.faults.sefaz_down():
            return _rejection("108", MSG_SEFAZ_DOWN)
        oldest = next(e for e in record.econf or [] if not e.get("cancelado"))
        if oldest["protocolo"] != protocolo:
            return _rejection("460", MSG_460)
        company = engine.companies[record.cnpj]
        now = engine.clock.now()
        record.econf_seq += 1
        seq = record.econf_seq
        protocolo_cancel = engine._new_protocol(company, now)
        path = _path(engine, record, f"cf-canc-{seq:02d}")
        detail = f"<descEvento>Cancelamento ECONF</descEvento><nProtEvento>{protocolo}</nProtEvento>"
        engine.store.put_file(
            path, XML_CT, _event_xml(engine, record, TP_EVENTO_CANCEL, seq, protocolo_cancel, now, detail)
        )
        event["cancelado"] = True
        event["cancelamento"] = {"numero": seq, "protocolo": protocolo_cancel, "caminho_xml": path}
        engine.store.put_note(record)
    return ApiResponse(
        200,
        {
            "status_sefaz": "135",
            "mensagem_sefaz": MSG_REGISTRADO,
            "status": "autorizado",
            "caminho_xml_cancelamento_conciliacao_financeira": path,
            "numero_cancelamento_conciliacao_financeira": seq,
        },
    )


def route(engine: NfceSandbox, token: str, method: str, rest: list[str], body: bytes) -> ApiResponse | None:
    """``rest`` = path parts after ``/v2/nfce`` (``[REF, "econf", PROTOCOLO?]``); None: not an ECONF route."""
    if len(rest) < 2 or rest[1] != "econf" or len(rest) > 3:
        return None
    if len(rest) == 2:
        if method == "POST":
            return send(engine, token, rest[0], body)
    elif method == "GET":
        return consult(engine, token, rest[0], rest[2])
    elif method == "DELETE":
        return cancel(engine, token, rest[0], rest[2])
    return api_error(405, "metodo_nao_permitido", f"Método {method} não permitido para este recurso")
