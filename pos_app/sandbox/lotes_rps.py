"""NFS-e by file (RPS batches) of the sandbox, per ``../shared/seeds/focus-nfe-lote-rps.md``.

The real import and answer files follow each city's own layout; the sandbox uses one of its own,
pipe-separated, ISO-8859-1, CRLF lines (documented here so the demo and the tests can make a city
answer; :meth:`LotesRpsSandbox.city_answer` writes one).

Import file (answer of ``POST /v2/lotes_rps`` and ``GET /v2/lotes_rps/REF``)::

    1|002|INSCRICAO_MUNICIPAL|CNPJ|CODIGO_MUNICIPIO|AAAAMMDD_INICIO|AAAAMMDD_FIM|QTD_RPS
    2|RPS|SERIE|NUMERO|AAAAMMDD|T|VALOR_SERVICOS|ITEM_LISTA|CODIGO_TRIBUTARIO|ALIQUOTA|ISS_RETIDO(1/2)|
      TIPO_DOC(1 CPF/2 CNPJ/3 sem)|DOC|RAZAO_SOCIAL|EMAIL|DISCRIMINACAO          (one line per RPS)
    9|QTD_RPS|VALOR_TOTAL_SERVICOS

City answer file (body of ``POST /v2/lotes_rps/REF/resposta``)::

    1|INSCRICAO_MUNICIPAL|CNPJ|AAAAMMDD
    2|SERIE_RPS|NUMERO_RPS|NUMERO_NFSE|CODIGO_VERIFICACAO|AAAAMMDDHHMMSS     (NFS-e generated)
    3|SERIE_RPS|NUMERO_RPS|CODIGO_ERRO|MENSAGEM                              (RPS refused)
    9|QTD_LINHAS

Decisions where the seed is silent: the RPS numbers are given by the sandbox (series "1", one
counter per CNPJ); a ref sent again with the same batch answers the same file (201), with other
data 422; validation errors 422 ``requisicao_invalida`` with ``erros`` (``campo`` like
``lista_nfse[0].servico.valor_servicos``); invalid CNPJ 400 ``requisicao_invalida``, a CNPJ the
account does not have 400 ``empresa_nao_habilitada``; an unreadable body 415 ``json_invalido``.
``/resposta``: 201 with a JSON array, one object per RPS of the batch (``status``, ``numero``,
``codigo_verificacao``, ``data_emissao``, ``uri``, ``caminho_xml_nota_fiscal`` as the seed's example,
plus ``serie_rps``/``numero_rps`` and ``erros``); when any RPS has an error every RPS is
``erro_autorizacao`` ("Nenhuma nota é processada"); an RPS the answer does not mention stays
``processando_autorizacao``; an answer in another format or for other RPS 415 ``formato_invalido``;
a header with another CNPJ 400 ``requisicao_invalida``.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from pos_app.core.domain.validators import is_valid_cnpj, is_valid_cpf, normalize_cnpj, only_digits
from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.docstore import DocRequest, DocStore, ok, parse_object
from pos_app.sandbox.engine import XML_CT, ApiResponse, NfceSandbox, api_error
from pos_app.sandbox.faults import Faults
from pos_app.sandbox.validation import REF_PATTERN

KIND = "lote_rps"
FILE_CT = "text/plain; charset=iso-8859-1"
MAX_RPS = 500
BRASILIA = timezone(timedelta(hours=-3))
_CLEAN = re.compile(r"[|\r\n\t]+")


def _clean(value: Any, limit: int) -> str:
    return " ".join(_CLEAN.sub(" ", str(value if value is not None else "")).split())[:limit]


def _cents(value: Decimal) -> str:
    return str(int((value * 100).to_integral_value()))


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _parse_dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BRASILIA)


class LotesRpsSandbox:
    """``/v2/lotes_rps``: generate the import file, consult it, read the city's answer."""

    def __init__(self, docs: DocStore, clock: SandboxClock, faults: Faults, engine: NfceSandbox) -> None:
        self.docs = docs
        self.clock = clock
        self.faults = faults
        self.engine = engine

    def handle(self, req: DocRequest) -> ApiResponse:
        rest, method = req.rest, req.method
        if method == "POST" and not rest:
            return self.create(req.token, req.query.get("ref"), req.body)
        if method == "GET" and len(rest) == 1 and rest[0]:
            return self.consult(req.token, rest[0])
        if method == "POST" and len(rest) == 2 and rest[1] == "resposta":
            return self.answer(req.token, rest[0], req.body, req.content_type)
        if len(rest) in (1, 2):
            return api_error(405, "requisicao_invalida", f"Método {method} não permitido para este recurso")
        return api_error(404, "nao_encontrado", "Recurso não encontrado")

    # -- creation ------------------------------------------------------------------------------
    def create(self, token: str, ref: str | None, body: bytes) -> ApiResponse:
        if not ref:
            return api_error(400, "requisicao_invalida", 'Parâmetro "ref" não informado')
        if not REF_PATTERN.fullmatch(ref):
            return api_error(
                400, "requisicao_invalida", "A referência (ref) aceita apenas letras, números, _ e -"
            )
        payload, problem = parse_object(body)
        if problem is not None or payload is None:
            if problem is not None and problem.status == 415:
                return api_error(415, "json_invalido", "Formato de arquivo inválido: envie o lote em JSON")
            return problem or api_error(400, "requisicao_invalida", "Corpo inválido")
        prestador = payload.get("prestador")
        if isinstance(prestador, dict):
            cnpj_raw = prestador.get("cnpj")
            cnpj = normalize_cnpj(str(cnpj_raw or ""))
            if cnpj_raw not in (None, "") and not is_valid_cnpj(cnpj):
                return api_error(400, "requisicao_invalida", f"CNPJ do prestador inválido: {cnpj_raw}")
            if is_valid_cnpj(cnpj) and cnpj not in self.engine.companies:
                return api_error(
                    400,
                    "empresa_nao_habilitada",
                    f"Empresa com CNPJ {cnpj} não habilitada para NFS-e neste token",
                )
        erros = self._errors(payload)
        if erros:
            return api_error(422, "requisicao_invalida", erros[0]["mensagem"], erros)
        assert isinstance(prestador, dict)
        cnpj = normalize_cnpj(str(prestador["cnpj"]))
        canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        with self.docs.transaction():
            existing = self.docs.get(KIND, token, ref)
            if existing is not None:
                if existing["canonical"] != canonical:
                    return api_error(
                        422,
                        "requisicao_invalida",
                        f"Já existe um lote RPS com a referência {ref} e dados diferentes",
                    )
                return ApiResponse(201, raw=existing["arquivo"].encode("latin-1"), content_type=FILE_CT)
            rps = []
            for nfse in payload["lista_nfse"]:
                numero = self.docs.store.next_sequence(f"rps:{cnpj}")
                rps.append({"serie": "1", "numero": str(numero), "nfse": nfse, "status": "pendente"})
            now = self.clock.now()
            record: dict[str, Any] = {
                "token": token, "ref": ref, "cnpj": cnpj, "prestador": prestador, "canonical": canonical,
                "rps": rps, "created_at": now.isoformat(), "respostas": [],
            }  # fmt: skip
            record["arquivo"] = self._render(record)
            self.docs.put(KIND, token, ref, record, self.docs.store.next_sequence("lote_rps_ord"))
        return ApiResponse(201, raw=record["arquivo"].encode("latin-1"), content_type=FILE_CT)

    @staticmethod
    def _errors(payload: dict[str, Any]) -> list[dict[str, str]]:
        erros: list[dict[str, str]] = []

        def err(campo: str, mensagem: str) -> None:
            erros.append({"codigo": "requisicao_invalida", "campo": campo, "mensagem": mensagem})

        prestador = payload.get("prestador")
        if not isinstance(prestador, dict):
            err("prestador", 'Campo "prestador" não informado')
        else:
            if not is_valid_cnpj(normalize_cnpj(str(prestador.get("cnpj") or ""))):
                err("prestador.cnpj", "CNPJ do prestador não informado")
            if not str(prestador.get("inscricao_municipal") or "").strip():
                err("prestador.inscricao_municipal", "Inscrição municipal do prestador não informada")
            if not re.fullmatch(r"\d{7}", str(prestador.get("codigo_municipio") or "").strip()):
                err("prestador.codigo_municipio", "Código IBGE do município do prestador deve ter 7 dígitos")
        lista = payload.get("lista_nfse")
        if not isinstance(lista, list) or not lista:
            err("lista_nfse", 'Campo "lista_nfse" não informado (lista com as notas)')
            return erros
        if len(lista) > MAX_RPS:
            err("lista_nfse", f"No máximo {MAX_RPS} notas por lote")
        for i, nfse in enumerate(lista):
            where = f"lista_nfse[{i}]"
            if not isinstance(nfse, dict):
                err(where, "Cada nota deve ser um objeto JSON")
                continue
            if _parse_dt(nfse.get("data_emissao")) is None:
                err(
                    f"{where}.data_emissao",
                    "data_emissao não informada ou inválida (AAAA-MM-DDThh:mm:ss-03:00)",
                )
            servico = nfse.get("servico")
            if not isinstance(servico, dict):
                err(f"{where}.servico", 'Campo "servico" não informado')
            else:
                if not str(servico.get("discriminacao") or "").strip():
                    err(f"{where}.servico.discriminacao", "Discriminação do serviço não informada")
                elif len(str(servico["discriminacao"])) > 2000:
                    err(f"{where}.servico.discriminacao", "Discriminação com mais de 2000 caracteres")
                valor = _decimal(servico.get("valor_servicos"))
                if valor is None or valor <= 0:
                    err(f"{where}.servico.valor_servicos", "valor_servicos deve ser um valor maior que zero")
                aliquota = _decimal(servico.get("aliquota"))
                if aliquota is None or not 0 <= aliquota <= 5:
                    err(f"{where}.servico.aliquota", "aliquota do ISS deve estar entre 0 e 5 (%)")
                item = str(servico.get("item_lista_servico") or "").replace(".", "").strip()
                if not re.fullmatch(r"\d{3,5}", item):
                    err(f"{where}.servico.item_lista_servico", "item_lista_servico inválido (ex.: 0107)")
                retido = str(servico.get("iss_retido", "false")).strip().lower()
                if retido not in ("true", "false", "0", "1", "2"):
                    err(f"{where}.servico.iss_retido", "iss_retido deve ser true ou false")
            tomador = nfse.get("tomador")
            if tomador is not None:
                if not isinstance(tomador, dict):
                    err(f"{where}.tomador", "tomador deve ser um objeto")
                    continue
                cnpj, cpf = tomador.get("cnpj"), tomador.get("cpf")
                if cnpj and not is_valid_cnpj(normalize_cnpj(str(cnpj))):
                    err(f"{where}.tomador.cnpj", "CNPJ do tomador inválido")
                if cpf and not is_valid_cpf(only_digits(str(cpf))):
                    err(f"{where}.tomador.cpf", "CPF do tomador inválido")
                if (cnpj or cpf) and not str(tomador.get("razao_social") or "").strip():
                    err(f"{where}.tomador.razao_social", "Razão social do tomador não informada")
        return erros

    @staticmethod
    def _render(record: dict[str, Any]) -> str:
        prestador = record["prestador"]
        per_rps = []
        for rps in record["rps"]:
            emitted = _parse_dt(rps["nfse"]["data_emissao"]) or datetime.now(BRASILIA)
            per_rps.append(emitted.astimezone(BRASILIA).strftime("%Y%m%d"))
        days = sorted(per_rps)
        lines = [
            "|".join(["1", "002", _clean(prestador["inscricao_municipal"], 15), record["cnpj"],
                      _clean(prestador["codigo_municipio"], 7), days[0], days[-1], str(len(record["rps"]))])
        ]  # fmt: skip
        total = Decimal(0)
        for rps, day in zip(record["rps"], per_rps, strict=True):
            nfse = rps["nfse"]
            servico = nfse["servico"]
            valor = _decimal(servico["valor_servicos"]) or Decimal(0)
            total += valor
            tomador = nfse.get("tomador") or {}
            doc = normalize_cnpj(str(tomador.get("cnpj") or tomador.get("cpf") or ""))
            tipo_doc = "2" if len(doc) == 14 else "1" if len(doc) == 11 else "3"
            retido = "1" if str(servico.get("iss_retido")).strip().lower() in ("true", "1") else "2"
            aliquota = _decimal(servico["aliquota"]) or Decimal(0)
            lines.append("|".join([
                "2", "RPS", rps["serie"], rps["numero"], day, "T", _cents(valor),
                str(servico["item_lista_servico"]).replace(".", ""), _clean(servico.get("codigo_tributario_municipio"), 20),
                f"{aliquota:.2f}", retido, tipo_doc, doc, _clean(tomador.get("razao_social"), 115),
                _clean(tomador.get("email"), 80), _clean(servico["discriminacao"], 2000),
            ]))  # fmt: skip
        lines.append("|".join(["9", str(len(record["rps"])), _cents(total)]))
        text = "\r\n".join(lines) + "\r\n"
        return text.encode("latin-1", "replace").decode("latin-1")

    # -- consult -------------------------------------------------------------------------------
    def consult(self, token: str, ref: str) -> ApiResponse:
        record = self.docs.get(KIND, token, ref)
        if record is None:
            return api_error(404, "nao_encontrado", "Lote não encontrado com a referência informada")
        return ApiResponse(200, raw=record["arquivo"].encode("latin-1"), content_type=FILE_CT)

    def batch(self, token: str, ref: str) -> dict[str, Any] | None:
        return self.docs.get(KIND, token, ref)

    # -- the city's answer ---------------------------------------------------------------------
    def city_answer(
        self, token: str, ref: str, errors: dict[str, str] | None = None, skip: set[str] | None = None
    ) -> bytes:
        """What the city would give back for batch ``ref`` (``errors``: numero_rps -> message)."""
        record = self.docs.get(KIND, token, ref)
        if record is None:
            raise KeyError(f"Lote RPS não encontrado: {ref}")
        now = self.clock.now().astimezone(BRASILIA)
        lines = ["|".join(["1", _clean(record["prestador"]["inscricao_municipal"], 15), record["cnpj"],
                           f"{now:%Y%m%d}"])]  # fmt: skip
        for rps in record["rps"]:
            numero = rps["numero"]
            if skip and numero in skip:
                continue
            if errors and numero in errors:
                lines.append("|".join(["3", rps["serie"], numero, "E160", _clean(errors[numero], 200)]))
            else:
                nfse = 9000 + self.docs.store.next_sequence(f"nfse:{record['cnpj']}")
                code = f"{secrets.randbelow(10**8):08d}"
                lines.append("|".join(["2", rps["serie"], numero, str(nfse), code, f"{now:%Y%m%d%H%M%S}"]))
        lines.append(f"9|{len(lines) - 1}")
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")

    def answer(self, token: str, ref: str, body: bytes, content_type: str = "") -> ApiResponse:
        with self.docs.transaction():
            record = self.docs.get(KIND, token, ref)
            if record is None:
                return api_error(404, "nao_encontrado", "Lote não encontrado com a referência informada")
            parsed = self._parse_answer(body)
            if isinstance(parsed, ApiResponse):
                return parsed
            header, lines = parsed
            if header[2] != record["cnpj"]:
                return api_error(
                    400,
                    "requisicao_invalida",
                    "CNPJ do arquivo de retorno difere do CNPJ do prestador do lote",
                )
            known = {(r["serie"], r["numero"]) for r in record["rps"]}
            if any((line[1], line[2]) not in known for line in lines):
                return api_error(
                    415, "formato_invalido", "Arquivo de retorno não corresponde às RPS deste lote"
                )
            by_rps = {(line[1], line[2]): line for line in lines}
            any_error = any(line[0] == "3" for line in lines)
            results: list[dict[str, Any]] = []
            for rps in record["rps"]:
                line = by_rps.get((rps["serie"], rps["numero"]))
                results.append(self._result(record, rps, line, any_error))
            record["respostas"].append(
                {"at": self.clock.now().isoformat(), "content_type": content_type, "resultado": results}
            )
            self.docs.put(KIND, token, ref, record, 0)
        return ok(results, 201)

    def _result(
        self, record: dict[str, Any], rps: dict[str, Any], line: list[str] | None, any_error: bool
    ) -> dict[str, Any]:
        base: dict[str, Any] = {"serie_rps": rps["serie"], "numero_rps": rps["numero"]}
        if line is not None and line[0] == "3":
            rps["status"] = "erro_autorizacao"
            return {**base, "status": "erro_autorizacao", "erros": [{"codigo": line[3], "mensagem": line[4]}]}
        if any_error:
            rps["status"] = "erro_autorizacao"
            return {**base, "status": "erro_autorizacao", "erros": [{
                "codigo": "lote_com_erros",
                "mensagem": "Nenhuma nota é processada: outra RPS do lote tem erro",
            }]}  # fmt: skip
        if line is None:
            if rps.get("status") == "autorizado":  # answered by an earlier file
                return {**base, "status": "autorizado", "numero": rps.get("nfse_numero")}
            return {**base, "status": "processando_autorizacao"}
        numero, codigo, stamp = line[3], line[4], line[5]
        emitted = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=BRASILIA)
        path = f"/notas_fiscais_servico/NFSe{record['cnpj']}-{rps['numero']}-{numero}-{codigo}.xml"
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<CompNfse><Nfse><InfNfse><Numero>{numero}</Numero><CodigoVerificacao>{codigo}</CodigoVerificacao>"
            f"<DataEmissao>{emitted.isoformat()}</DataEmissao><IdentificacaoRps><Numero>{rps['numero']}</Numero>"
            f"<Serie>{rps['serie']}</Serie><Tipo>1</Tipo></IdentificacaoRps>"
            f"<PrestadorServico><Cnpj>{record['cnpj']}</Cnpj></PrestadorServico></InfNfse></Nfse></CompNfse>"
        ).encode()
        self.docs.store.put_file(path, XML_CT, xml)
        rps.update(status="autorizado", nfse_numero=numero)
        return {
            **base, "status": "autorizado", "numero": numero, "codigo_verificacao": codigo,
            "data_emissao": emitted.isoformat(), "uri": f"https://nfse.sandbox.focus/{record['prestador']['codigo_municipio']}/",
            "caminho_xml_nota_fiscal": path,
        }  # fmt: skip

    @staticmethod
    def _parse_answer(body: bytes) -> tuple[list[str], list[list[str]]] | ApiResponse:
        invalid = api_error(
            415, "formato_invalido", "Formato de arquivo inválido: arquivo de retorno não reconhecido"
        )
        if not body.strip() or b"\x00" in body:
            return invalid
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = body.decode("latin-1")
        rows = [line.strip().split("|") for line in text.splitlines() if line.strip()]
        if not rows or rows[0][0] != "1" or len(rows[0]) < 4:
            return invalid
        header = [only_digits(rows[0][1]), rows[0][1], only_digits(rows[0][2]), rows[0][3]]
        lines: list[list[str]] = []
        for row in rows[1:]:
            if row[0] == "2" and len(row) == 6 and row[2].isdigit() and re.fullmatch(r"\d{14}", row[5]):
                lines.append(row)
            elif row[0] == "3" and len(row) >= 5 and row[2].isdigit():
                lines.append(row[:4] + ["|".join(row[4:])])
            elif row[0] == "9":
                continue
            else:
                return invalid
        return header, lines
