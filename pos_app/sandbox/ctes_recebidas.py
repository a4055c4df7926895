"""Received CT-e (manifestação de CT-e) of the sandbox, per ``../shared/seeds/focus-nfe-manifestacao-cte.md``.

Each company the sandbox knows gets, the first time its received CT-e are asked for, a handful of
realistic documents (different carriers, one cancelled, one with a CC-e, one too old for a
desacordo). ``versao`` is unique per CNPJ and grows with every change (:meth:`add`,
:meth:`cancel`, :meth:`correct` let tests and the demo make new ones).

Decisions where the seed is silent:

* listing: ordered by ``versao``; ``X-Total-Count`` counts every document with ``versao`` greater
  than the one asked (the seed: "incluindo aqueles que não foram devolvidos"); ``X-Max-Version`` is
  the greatest ``versao`` returned (the one asked, or 0, when nothing is returned);
* ``cnpj`` missing or malformed: 400 ``requisicao_invalida`` "CNPJ do emitente não autorizado ou
  não informado."; a valid CNPJ the account does not have (or disabled): 403 ``permissao_negada``;
* desacordo: 200 ``evento_registrado``; a second one: 400 "Desacordo já registrado..."; a cancelled
  CT-e or one authorized more than 45 days ago: 200 with ``status: erro`` (SEFAZ refusal);
  registering it does not change ``versao`` (the document itself did not change);
* ``GET .../desacordo`` (and ``.../manifesto``, named by the seed's prose): the last desacordo, 404
  when there is none; ``CHAVE``, ``CHAVE.json``: summary (+ ``mdfes``, ``requisicao``,
  ``protocolo`` with ``completa=1``); ``CHAVE.pdf``: 302 to the stored DACTe.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree

from pos_app.core.domain.validators import is_valid_cnpj, normalize_cnpj
from pos_app.core.fiscal.chave import build_chave
from pos_app.core.fiscal.states import UF_CODES
from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.companies import CompanyConfig
from pos_app.sandbox.cte_documents import (
    CTE_NS,
    CteEvent,
    CteIdentity,
    Emitter,
    build_cte,
    cte_proc,
    event_proc,
)
from pos_app.sandbox.docstore import PDF_CT, DocRequest, DocResponse, DocStore, ok, parse_object, simple_pdf
from pos_app.sandbox.documents import local_time, xml_datetime
from pos_app.sandbox.engine import XML_CT, ApiResponse, NfceSandbox, api_error
from pos_app.sandbox.faults import Faults

KIND = "cte_recebida"
PAGE_SIZE = 100
DESACORDO_WINDOW = timedelta(days=45)
MSG_EVENTO = "Evento registrado e vinculado a CT-e"


def cnpj_with_dv(base12: str) -> str:
    """Complete 12 digits with the two CNPJ check digits."""
    digits = base12
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
        rest = total % 11
        digits += "0" if rest < 2 else str(11 - rest)
    return digits


# (carrier, base CNPJ, UF, município, IBGE, value, days ago, tipo_cte, product)
_SEEDS = [
    ("TRANSPORTADORA RODOSUL LTDA", "123456780001", "PR", "Curitiba", "4106902", "385.40", 2, "0", "ALIMENTOS"),
    ("EXPRESSO PINHEIRAO TRANSPORTES S.A.", "334455660001", "SC", "Joinville", "4209102", "1210.00", 5, "0",
     "BEBIDAS"),
    ("LOGISTICA VALE DO IGUACU LTDA", "556677880001", "PR", "Sao Jose dos Pinhais", "4125506", "96.75", 9, "1",
     "HORTIFRUTI"),
    ("TRANSLITORAL CARGAS E ENCOMENDAS LTDA", "778899000001", "SP", "Sao Paulo", "3550308", "2480.90", 12, "0",
     "PRODUTOS DE LIMPEZA"),
    ("RAPIDO CAMPOS GERAIS TRANSPORTES LTDA", "990011220001", "PR", "Ponta Grossa", "4119905", "640.00", 20, "3",
     "MERCEARIA"),
    ("TRANSPORTES SERRA DO MAR LTDA", "445566770001", "PR", "Paranagua", "4118204", "158.30", 60, "0",
     "CONGELADOS"),
]  # fmt: skip


class CtesRecebidasSandbox:
    """``/v2/ctes_recebidas``: listing by ``versao``, desacordo, consult, XML and DACTe downloads."""

    def __init__(self, docs: DocStore, clock: SandboxClock, faults: Faults, engine: NfceSandbox) -> None:
        self.docs = docs
        self.clock = clock
        self.faults = faults
        self.engine = engine
        self.page_size = PAGE_SIZE
        self.disabled: set[str] = set()  # CNPJs without manifestação enabled (403)
        self.seed_documents = True

    @property
    def ambiente(self) -> str:
        return self.engine.ambiente

    # -- routing -------------------------------------------------------------------------------
    def handle(self, req: DocRequest) -> ApiResponse:
        rest, method = req.rest, req.method
        if not rest:
            if method == "GET":
                return self.listing(req.query)
            return api_error(405, "requisicao_invalida", f"Método {method} não permitido para este recurso")
        name = rest[0]
        if len(rest) == 1:
            if method != "GET":
                return api_error(
                    405, "requisicao_invalida", f"Método {method} não permitido para este recurso"
                )
            chave, _, ext = name.partition(".")
            if ext in ("", "json"):
                return self.consult(chave, req.query.get("cnpj"), req.completa)
            if ext == "xml":
                return self._file(chave, req.query.get("cnpj"), "xml")
            if ext == "pdf":
                return self._dacte(chave, req.query.get("cnpj"), req.host)
            return api_error(404, "nao_encontrado", "Recurso não encontrado")
        if len(rest) == 2:
            action = rest[1]
            if action in ("desacordo", "manifesto"):
                if method == "POST" and action == "desacordo":
                    return self.desacordo(name, req.query.get("cnpj"), req.body)
                if method == "GET":
                    return self.consult_desacordo(name, req.query.get("cnpj"))
            if method == "GET" and action == "cancelamento.xml":
                return self._file(name, req.query.get("cnpj"), "cancelamento")
            if method == "GET" and action == "carta_correcao.xml":
                return self._file(name, req.query.get("cnpj"), "carta_correcao")
        return api_error(404, "nao_encontrado", "Recurso não encontrado")

    # -- listing -------------------------------------------------------------------------------
    def listing(self, query: dict[str, str]) -> ApiResponse:
        cnpj = normalize_cnpj(query.get("cnpj") or "")
        if not is_valid_cnpj(cnpj):
            return api_error(400, "requisicao_invalida", "CNPJ do emitente não autorizado ou não informado.")
        if cnpj not in self.engine.companies or cnpj in self.disabled:
            return api_error(403, "permissao_negada", "CNPJ do emitente não autorizado.")
        versao_raw = (query.get("versao") or "").strip()
        if versao_raw and not versao_raw.isdigit():
            return api_error(400, "requisicao_invalida", 'Parâmetro "versao" deve ser um número inteiro')
        after = int(versao_raw) if versao_raw else None
        with self.docs.transaction():
            self._seed(cnpj)
            total = self.docs.count(KIND, cnpj, after=after)
            page = self.docs.scan(KIND, cnpj, after=after, limit=self.page_size)
        summaries = [self._summary(d) for d in page]
        max_version = max((d["versao"] for d in page), default=after or 0)
        headers = (("X-Total-Count", str(total)), ("X-Max-Version", str(max_version)))
        return ok(summaries, 200, headers)

    # -- documents -----------------------------------------------------------------------------
    def _seed(self, cnpj: str) -> None:
        if not self.seed_documents or self.docs.get("cte_recebida_seed", cnpj, "done") is not None:
            return
        self.docs.put("cte_recebida_seed", cnpj, "done", {"at": self.clock.now().isoformat()})
        now = self.clock.now()
        chaves = []
        for nome, base, uf, municipio, ibge, valor, days, tipo, produto in _SEEDS:
            chaves.append(
                self.add(cnpj, nome_emitente=nome, cnpj_emitente=cnpj_with_dv(base), uf=uf, municipio=municipio,
                         codigo_municipio=ibge, valor_total=valor, data_emissao=now - timedelta(days=days),
                         tipo_cte=tipo, produto=produto)
            )  # fmt: skip
        self.cancel(chaves[3], "Valor do frete informado com erro de digitacao")
        self.correct(chaves[1], "observacoes", "Entrega no deposito dos fundos, doca 3")

    def add(
        self,
        cnpj: str,
        *,
        nome_emitente: str = "TRANSPORTADORA EXEMPLO LTDA",
        cnpj_emitente: str | None = None,
        uf: str = "PR",
        municipio: str = "Curitiba",
        codigo_municipio: str = "4106902",
        valor_total: str = "250.00",
        data_emissao: datetime | None = None,
        tipo_cte: str = "0",
        produto: str = "MERCADORIAS EM GERAL",
        numero: int | None = None,
    ) -> str:
        """A new CT-e received by ``cnpj`` (as if SEFAZ had just told Focus); returns its chave."""
        company = self.engine.companies[cnpj]
        with self.docs.transaction():
            emitted = local_time(data_emissao or self.clock.now(), uf)
            issuer = cnpj_emitente or cnpj_with_dv(f"{secrets.randbelow(10**8):08d}0001")
            numero = numero or 1000 + self.docs.store.next_sequence(f"cte_recebida_numero:{issuer}")
            cct = f"{secrets.randbelow(10**8):08d}"
            chave = build_chave(uf, emitted, issuer, 1, numero, 1, cct, modelo=57)
            payload = {
                "cfop": "5353" if uf == company.uf else "6353",
                "natureza_operacao": "PRESTACAO DE SERVICO DE TRANSPORTE",
                "tipo_documento": tipo_cte,
                "tipo_servico": 0,
                "codigo_municipio_envio": codigo_municipio, "municipio_envio": municipio, "uf_envio": uf,
                "codigo_municipio_inicio": codigo_municipio, "municipio_inicio": municipio, "uf_inicio": uf,
                "codigo_municipio_fim": company.codigo_municipio, "municipio_fim": company.municipio,
                "uf_fim": company.uf, "tomador": "3", "cnpj_remetente": issuer, "nome_remetente": nome_emitente,
                "cnpj_destinatario": cnpj, "nome_destinatario": company.razao_social,
                "valor_total": valor_total, "valor_receber": valor_total, "icms_situacao_tributaria": "00",
                "icms_base_calculo": valor_total,
                "icms_aliquota": "12.00",
                "icms_valor": f"{(Decimal(valor_total) * Decimal('0.12')).quantize(Decimal('0.01'))}",
                "valor_total_carga": f"{Decimal(valor_total) * 8:.2f}", "produto_predominante": produto,
                "quantidades": [{"codigo_unidade_medida": "01", "tipo_medida": "PESO BRUTO", "quantidade": "850.0000"}],
                "modal_rodoviario": {"rntrc": f"{int(issuer[:8]) % 10**8:08d}"},
            }  # fmt: skip
            emitter = Emitter(issuer, "1234567890", nome_emitente, nome_emitente.title()[:60], "Rodovia BR-116",
                              "km 100", "Distrito Industrial", codigo_municipio, municipio, uf, "81000000", "3",
                              UF_CODES[uf])  # fmt: skip
            xml, digest = build_cte(
                CteIdentity(chave, 57, 1, numero, cct, emitted), emitter, payload, self.ambiente
            )
            authorized = emitted + timedelta(minutes=2)
            protocolo = f"3{UF_CODES[uf]}{emitted:%y}{self.docs.store.next_sequence('protocolo_cte'):09d}"
            proc = cte_proc(xml, 57, chave, digest, protocolo, authorized, self.ambiente)
            self.docs.store.put_file(self._path(cnpj, chave, "xml"), XML_CT, proc)
            pdf = simple_pdf([
                "DACTE - DOCUMENTO AUXILIAR DO CT-E (SANDBOX)", "SEM VALOR FISCAL",
                f"Emitente: {nome_emitente} CNPJ {issuer}", f"Tomador: {company.razao_social} CNPJ {cnpj}",
                f"Chave de acesso: {chave}", f"Valor total da prestacao: R$ {valor_total}",
            ])  # fmt: skip
            self.docs.store.put_file(self._path(cnpj, chave, "pdf"), PDF_CT, pdf)
            doc = {
                "cnpj": cnpj, "chave": chave, "nome_emitente": nome_emitente, "documento_emitente": issuer,
                "valor_total": valor_total, "data_emissao": xml_datetime(emitted), "situacao": "autorizado",
                "tipo_cte": tipo_cte, "digest_value": digest, "uf_emitente": uf,
                "data_autorizacao": authorized.isoformat(), "protocolo": protocolo, "payload": payload,
                "mdfes": [], "desacordos": [], "cce": [],
            }  # fmt: skip
            self._store(doc)
        return chave

    def cancel(self, chave: str, justificativa: str = "Cancelamento por erro na emissao") -> None:
        """The carrier cancelled the CT-e: new ``versao``, cancellation XML available."""
        with self.docs.transaction():
            doc = self._only(chave)
            now = self.clock.now()
            when = local_time(now, doc["uf_emitente"])
            event = CteEvent(
                chave,
                doc["documento_emitente"],
                UF_CODES[doc["uf_emitente"]],
                "110111",
                1,
                when,
                self._protocol(doc, now),
                {"nProt": doc["protocolo"], "xJust": justificativa},
            )
            self.docs.store.put_file(
                self._path(doc["cnpj"], chave, "cancelamento"), XML_CT, event_proc(event, self.ambiente)
            )
            doc.update(
                situacao="cancelado",
                data_cancelamento=xml_datetime(when),
                justificativa_cancelamento=justificativa,
            )
            self._store(doc)

    def correct(self, chave: str, campo: str, valor: str) -> None:
        """The carrier sent a CC-e: new ``versao``, its XML is the last carta de correção."""
        with self.docs.transaction():
            doc = self._only(chave)
            now = self.clock.now()
            when = local_time(now, doc["uf_emitente"])
            sequencia = len(doc["cce"]) + 1
            event = CteEvent(
                chave,
                doc["documento_emitente"],
                UF_CODES[doc["uf_emitente"]],
                "110110",
                sequencia,
                when,
                self._protocol(doc, now),
                {"infCorrecao": {"campoAlterado": campo, "valorAlterado": valor}},
            )
            self.docs.store.put_file(
                self._path(doc["cnpj"], chave, "carta_correcao"), XML_CT, event_proc(event, self.ambiente)
            )
            doc["cce"].append({"campo": campo, "valor": valor, "data": xml_datetime(when)})
            doc.update(carta_correcao=f"{campo}: {valor}", data_carta_correcao=xml_datetime(when))
            self._store(doc)

    def document(self, chave: str) -> dict[str, Any] | None:
        found = self.docs.find(KIND, chave)
        return found[0][1] if found else None

    def _only(self, chave: str) -> dict[str, Any]:
        found = self.docs.find(KIND, chave)
        if not found:
            raise KeyError(f"CT-e recebido não encontrado: {chave}")
        return found[0][1]

    def _store(self, doc: dict[str, Any]) -> None:
        doc["versao"] = 1700 + self.docs.store.next_sequence(f"cte_recebida_versao:{doc['cnpj']}")
        self.docs.put(KIND, doc["cnpj"], doc["chave"], doc, doc["versao"])

    def _protocol(self, doc: dict[str, Any], now: datetime) -> str:
        return f"3{UF_CODES[doc['uf_emitente']]}{now:%y}{self.docs.store.next_sequence('protocolo_cte'):09d}"

    def _path(self, cnpj: str, chave: str, what: str) -> str:
        root = "arquivos" if self.ambiente == "producao" else "arquivos_development"
        ext = "pdf" if what == "pdf" else "xml"
        suffix = {
            "xml": "cte",
            "pdf": "dacte",
            "cancelamento": "can",
            "carta_correcao": "cce",
            "desacordo": "desacordo",
        }[what]
        return f"/{root}/{cnpj}/recebidos/{chave}-{suffix}.{ext}"

    @staticmethod
    def _summary(doc: dict[str, Any]) -> dict[str, Any]:
        body = {
            "nome_emitente": doc["nome_emitente"],
            "documento_emitente": doc["documento_emitente"],
            "chave": doc["chave"],
            "valor_total": doc["valor_total"],
            "data_emissao": doc["data_emissao"],
            # Both forms occur at Focus: the seed's table says "autorizada, cancelada ou denegada", its
            # example "autorizado". The sandbox answers the feminine form for cancelled documents.
            "situacao": {"cancelado": "cancelada", "denegado": "denegada"}.get(
                doc["situacao"], doc["situacao"]
            ),
            "tipo_cte": doc["tipo_cte"],
            "versao": doc["versao"],
            "digest_value": doc["digest_value"],
            "cnpj_destinatario": doc["cnpj"],
        }
        for key in (
            "carta_correcao",
            "data_carta_correcao",
            "data_cancelamento",
            "justificativa_cancelamento",
        ):
            if doc.get(key):
                body[key] = doc[key]
        return body

    def _lookup(self, chave: str, cnpj: str | None) -> tuple[dict[str, Any] | None, ApiResponse | None]:
        if cnpj is not None:
            digits = normalize_cnpj(cnpj)
            if not is_valid_cnpj(digits):
                return None, api_error(
                    400, "requisicao_invalida", "CNPJ do emitente não autorizado ou não informado."
                )
            if digits in self.disabled:
                return None, api_error(403, "permissao_negada", "CNPJ do emitente não autorizado.")
            doc = self.docs.get(KIND, digits, chave)
        else:
            found = self.docs.find(KIND, chave)
            doc = found[0][1] if found else None
        if doc is None:
            return None, api_error(404, "nao_encontrado", "Documento Fiscal não encontrado")
        if doc["cnpj"] in self.disabled:
            return None, api_error(403, "permissao_negada", "CNPJ do emitente não autorizado.")
        return doc, None

    # -- consult and files ---------------------------------------------------------------------
    def consult(self, chave: str, cnpj: str | None, completa: bool) -> ApiResponse:
        doc, problem = self._lookup(chave, cnpj)
        if problem is not None or doc is None:
            return problem or api_error(404, "nao_encontrado", "Documento Fiscal não encontrado")
        body = self._summary(doc)
        if completa:
            body["mdfes"] = list(doc.get("mdfes") or [])
            body["requisicao"] = dict(doc["payload"])
            body["protocolo"] = {
                "versao": "4.00", "ambiente": "1" if self.ambiente == "producao" else "2",
                "versao_aplicativo": "SANDBOX-1.0", "chave": doc["chave"], "protocolo": doc["protocolo"],
                "data_recebimento": doc["data_autorizacao"], "digest_value": doc["digest_value"],
                "status": "100", "motivo": "Autorizado o uso do CT-e",
            }  # fmt: skip
        return ok(body)

    def _file(self, chave: str, cnpj: str | None, what: str) -> ApiResponse:
        doc, problem = self._lookup(chave, cnpj)
        if problem is not None or doc is None:
            return problem or api_error(404, "nao_encontrado", "Documento Fiscal não encontrado")
        found = self.docs.store.get_file(self._path(doc["cnpj"], chave, what))
        if found is None:
            missing = {
                "cancelamento": "CT-e não cancelado: não há XML de cancelamento",
                "carta_correcao": "CT-e sem carta de correção",
            }.get(what, "Arquivo não encontrado")
            return api_error(404, "nao_encontrado", missing)
        content_type, body = found
        return ApiResponse(200, raw=body, content_type=content_type)

    def _dacte(self, chave: str, cnpj: str | None, host: str) -> ApiResponse:
        doc, problem = self._lookup(chave, cnpj)
        if problem is not None or doc is None:
            return problem or api_error(404, "nao_encontrado", "Documento Fiscal não encontrado")
        path = self._path(doc["cnpj"], chave, "pdf")
        location = f"http://{host}{path}" if host else path
        body = f'<html><body>You are being <a href="{location}">redirected</a>.</body></html>'.encode()
        return DocResponse(
            302, raw=body, content_type="text/html; charset=utf-8", headers=(("Location", location),)
        )

    # -- desacordo -----------------------------------------------------------------------------
    def desacordo(self, chave: str, cnpj: str | None, body: bytes) -> ApiResponse:
        payload, problem = parse_object(body, allow_empty=True)
        if problem is not None or payload is None:
            return problem or api_error(400, "requisicao_invalida", "Corpo inválido")
        with self.docs.transaction():
            doc, problem = self._lookup(chave, cnpj)
            if problem is not None or doc is None:
                return problem or api_error(404, "nao_encontrado", "Documento Fiscal não encontrado")
            obs = payload.get("observacoes")
            if not isinstance(obs, str) or not obs.strip():
                return api_error(400, "requisicao_invalida", 'Parâmetro "observacoes" não informado')
            obs = " ".join(obs.split())
            if not 15 <= len(obs) <= 255:
                return api_error(
                    400, "requisicao_invalida", 'Parâmetro "observacoes" deve ter entre 15 e 255 caracteres'
                )
            if any(d["status"] == "evento_registrado" for d in doc["desacordos"]):
                return api_error(
                    400, "requisicao_invalida", "Desacordo já registrado para este Documento Fiscal"
                )
            now = self.clock.now()
            if self.faults.sefaz_down():
                return ok({"status_sefaz": "108", "mensagem_sefaz": "Servico Paralisado Momentaneamente (curto prazo)",
                           "status": "erro"})  # fmt: skip
            if doc["situacao"] != "autorizado":
                return ok({"status_sefaz": "218", "mensagem_sefaz": "Rejeicao: CT-e ja esta cancelado na base de dados "
                                                                    "da SEFAZ", "status": "erro"})  # fmt: skip
            if now - datetime.fromisoformat(doc["data_autorizacao"]) > DESACORDO_WINDOW:
                return ok(
                    {
                        "status_sefaz": "699",
                        "mensagem_sefaz": "Rejeicao: Prazo do evento de prestacao do servico "
                        "em desacordo expirado (45 dias)",
                        "status": "erro",
                    }
                )
            company: CompanyConfig = self.engine.companies[doc["cnpj"]]
            when = local_time(now, company.uf)
            protocolo = self._protocol(doc, now)
            event = CteEvent(
                chave,
                doc["cnpj"],
                UF_CODES[doc["uf_emitente"]],
                "610110",
                1,
                when,
                protocolo,
                {"indDesacordoOper": "1", "xObs": obs},
            )
            self.docs.store.put_file(
                self._path(doc["cnpj"], chave, "desacordo"), XML_CT, event_proc(event, self.ambiente)
            )
            answer = {"status_sefaz": "135", "mensagem_sefaz": MSG_EVENTO, "status": "evento_registrado",
                      "protocolo": protocolo}  # fmt: skip
            doc["desacordos"].append({**answer, "observacoes": obs, "data": xml_datetime(when)})
            self.docs.put(
                KIND, doc["cnpj"], chave, doc, doc["versao"]
            )  # same versao: the CT-e did not change
        return ok(answer)

    def consult_desacordo(self, chave: str, cnpj: str | None) -> ApiResponse:
        doc, problem = self._lookup(chave, cnpj)
        if problem is not None or doc is None:
            return problem or api_error(404, "nao_encontrado", "Documento Fiscal não encontrado")
        valid = [d for d in doc["desacordos"] if d["status"] == "evento_registrado"]
        if not valid:
            return api_error(404, "nao_encontrado", "Nenhum desacordo registrado para este Documento Fiscal")
        last = valid[-1]
        return ok({k: last[k] for k in ("status_sefaz", "mensagem_sefaz", "status", "protocolo")})


def well_formed(xml: bytes) -> bool:
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError:
        return False
    return root.tag.startswith(f"{{{CTE_NS}}}")
