"""XML the sandbox hands out for CT-e (model 57) and CT-e OS (model 67): ``cteProc`` /
``cteOSProc``, ``procEventoCTe`` (cancellation, CC-e, desacordo, multimodal, GTV) and
``procInutCTe``. Signed with the sandbox certificate and well formed; the CT-e schemas are not in
the project, so they are *not* validated against an XSD (only the NF-e ones are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from pos_app.sandbox.documents import VER_APLIC, VER_PROC, text, tp_amb, xml_datetime
from pos_app.sandbox.signing import sign_enveloped

CTE_NS = "http://www.portalfiscal.inf.br/cte"
VERSAO = "4.00"
MODAL_CODES = {
    "modal_rodoviario": "01",
    "modal_aereo": "02",
    "modal_aquaviario": "03",
    "modal_ferroviario": "04",
    "modal_dutoviario": "05",
    "modal_multimodal": "06",
}
EVENTS = {
    "110111": "Cancelamento",
    "110110": "Carta de Correcao",
    "610110": "Prestacao do Servico em Desacordo",
    "110160": "Registro Multimodal",
    "110170": "Informacoes da GTV",
}
_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _el(parent: etree._Element, tag: str, value: Any = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{CTE_NS}}}{tag}")
    if value is not None:
        node.text = value if isinstance(value, str) else str(value)
    return node


def _root(tag: str, **attrs: str) -> etree._Element:
    return etree.Element(f"{{{CTE_NS}}}{tag}", nsmap={None: CTE_NS}, **attrs)


def _tag(key: str) -> str:
    name = _NAME.sub("_", key) or "campo"
    return name if name[0].isalpha() or name[0] == "_" else "_" + name


def _generic(parent: etree._Element, tag: str, value: Any) -> None:
    """Free-form data (a modal group, a GTV) as nested elements: well formed, not schema bound."""
    if isinstance(value, dict):
        node = _el(parent, _tag(tag))
        for key, item in value.items():
            _generic(node, str(key), item)
    elif isinstance(value, list):
        for item in value:
            _generic(parent, tag, item)
    elif value is not None:
        _el(parent, _tag(tag), text(str(value), 2000))


def _doc(parent: etree._Element, digits: str) -> None:
    _el(parent, "CNPJ" if len(digits) == 14 else "CPF", digits)


@dataclass(frozen=True)
class CteIdentity:
    chave: str
    modelo: int
    serie: int
    numero: int
    cct: str
    dh_emi: datetime
    tp_emis: int = 1


@dataclass(frozen=True)
class Emitter:
    cnpj: str
    ie: str
    nome: str
    fantasia: str
    logradouro: str
    numero: str
    bairro: str
    cmun: str
    municipio: str
    uf: str
    cep: str
    crt: str
    cuf: str


def build_cte(
    ident: CteIdentity, emitter: Emitter, payload: dict[str, Any], ambiente: str
) -> tuple[bytes, str]:
    """The signed ``CTe``/``CTeOS`` element (serialized) and its DigestValue."""
    os_model = ident.modelo == 67
    root = _root("CTeOS", versao=VERSAO) if os_model else _root("CTe")
    inf = _el(root, "infCte")
    inf.set("versao", VERSAO)
    inf.set("Id", "CTe" + ident.chave)
    ide = _el(inf, "ide")
    _el(ide, "cUF", emitter.cuf)
    _el(ide, "cCT", ident.cct)
    _el(ide, "CFOP", str(payload.get("cfop", "")))
    _el(ide, "natOp", text(str(payload.get("natureza_operacao", "")), 60))
    _el(ide, "mod", str(ident.modelo))
    _el(ide, "serie", str(ident.serie))
    _el(ide, "nCT", str(ident.numero))
    _el(ide, "dhEmi", xml_datetime(ident.dh_emi))
    _el(ide, "tpImp", "1")
    _el(ide, "tpEmis", str(ident.tp_emis))
    _el(ide, "cDV", ident.chave[-1])
    _el(ide, "tpAmb", tp_amb(ambiente))
    _el(ide, "tpCTe", str(payload.get("tipo_documento", "0")))
    _el(ide, "procEmi", "0")
    _el(ide, "verProc", VER_PROC)
    _el(ide, "cMunEnv", str(payload.get("codigo_municipio_envio", emitter.cmun)))
    _el(ide, "xMunEnv", text(str(payload.get("municipio_envio", emitter.municipio)), 60))
    _el(ide, "UFEnv", str(payload.get("uf_envio", emitter.uf)))
    modal = str(payload.get("modal") or next((c for k, c in MODAL_CODES.items() if k in payload), "01"))
    _el(ide, "modal", modal.zfill(2))
    _el(ide, "tpServ", str(payload.get("tipo_servico", "0")))
    for suffix, tag in (("inicio", "Ini"), ("fim", "Fim")):
        _el(ide, f"cMun{tag}", str(payload.get(f"codigo_municipio_{suffix}", "")))
        _el(ide, f"xMun{tag}", text(str(payload.get(f"municipio_{suffix}", "")), 60))
        _el(ide, f"UF{tag}", str(payload.get(f"uf_{suffix}", "")))
    if not os_model:
        _el(ide, "retira", str(payload.get("retirar_mercadoria", "1")))
        _el(ide, "indIEToma", str(payload.get("indicador_inscricao_estadual_tomador", "9")))
        toma = _el(ide, "toma3")
        _el(toma, "toma", str(payload.get("tomador", "0")))
    else:
        _el(ide, "indIEToma", str(payload.get("indicador_inscricao_estadual_tomador", "9")))
    emit = _el(inf, "emit")
    _el(emit, "CNPJ", emitter.cnpj)
    _el(emit, "IE", emitter.ie)
    _el(emit, "xNome", text(emitter.nome, 60))
    _el(emit, "xFant", text(emitter.fantasia, 60))
    ender = _el(emit, "enderEmit")
    _el(ender, "xLgr", text(emitter.logradouro, 60))
    _el(ender, "nro", text(emitter.numero, 60))
    _el(ender, "xBairro", text(emitter.bairro, 60))
    _el(ender, "cMun", emitter.cmun)
    _el(ender, "xMun", text(emitter.municipio, 60))
    _el(ender, "CEP", emitter.cep)
    _el(ender, "UF", emitter.uf)
    _el(emit, "CRT", emitter.crt)
    parties = (("tomador", "toma"),) if os_model else (("remetente", "rem"), ("destinatario", "dest"))
    for who, tag in parties:
        doc = str(payload.get(f"cnpj_{who}") or payload.get(f"cpf_{who}") or "")
        if doc:
            node = _el(inf, tag)
            _doc(node, doc)
            _el(node, "xNome", text(str(payload.get(f"nome_{who}", "")), 60))
    prest = _el(inf, "vPrest")
    _el(prest, "vTPrest", str(payload.get("valor_total", "0.00")))
    _el(prest, "vRec", str(payload.get("valor_receber", "0.00")))
    imp = _el(inf, "imp")
    icms = _el(imp, "ICMS")
    cst = str(payload.get("icms_situacao_tributaria", "00"))
    group = _el(icms, "ICMSSN" if cst == "SN" else f"ICMS{cst}")
    _el(group, "CST", "90" if cst == "SN" else cst)
    for key, tag in (("icms_base_calculo", "vBC"), ("icms_aliquota", "pICMS"), ("icms_valor", "vICMS")):
        if payload.get(key) not in (None, ""):
            _el(group, tag, str(payload[key]))
    norm = _el(inf, "infCTeNorm")
    if os_model:
        serv = _el(norm, "infServico")
        _el(serv, "xDescServ", text(str(payload.get("descricao_servico", "")), 30))
    else:
        carga = _el(norm, "infCarga")
        _el(carga, "vCarga", str(payload.get("valor_total_carga", "0.00")))
        _el(carga, "proPred", text(str(payload.get("produto_predominante", "")), 60))
        for q in payload.get("quantidades") or []:
            if isinstance(q, dict):
                inf_q = _el(carga, "infQ")
                _el(inf_q, "cUnid", str(q.get("codigo_unidade_medida", "")))
                _el(inf_q, "tpMed", text(str(q.get("tipo_medida", "")), 20))
                _el(inf_q, "qCarga", str(q.get("quantidade", "")))
        nfes = [n for n in payload.get("nfes") or [] if isinstance(n, dict)]
        if nfes:
            docs = _el(norm, "infDoc")
            for nfe in nfes:
                _el(_el(docs, "infNFe"), "chave", str(nfe.get("chave_nfe", "")))
    modal_key = next((k for k in MODAL_CODES if isinstance(payload.get(k), dict)), None)
    if modal_key is not None:
        inf_modal = _el(norm, "infModal")
        inf_modal.set("versaoModal", VERSAO)
        _generic(inf_modal, modal_key.removeprefix("modal_"), payload[modal_key])
    supl = _el(root, "infCTeSupl")
    _el(
        supl,
        "qrCodCTe",
        f"https://dfe-portal.svrs.rs.gov.br/cte/qrCode?chCTe={ident.chave}&tpAmb={tp_amb(ambiente)}",
    )
    digest = sign_enveloped(inf, root)
    return etree.tostring(root, encoding="UTF-8"), digest


def cte_proc(
    cte_xml: bytes,
    modelo: int,
    chave: str,
    digest: str,
    protocolo: str,
    received: datetime,
    ambiente: str,
    status: str = "100",
    motivo: str = "Autorizado o uso do CT-e",
) -> bytes:
    """``cteProc``/``cteOSProc``: the signed CT-e with its authorization protocol."""
    root = _root("cteOSProc" if modelo == 67 else "cteProc", versao=VERSAO)
    root.append(etree.fromstring(cte_xml))
    prot = _el(root, "protCTeOS" if modelo == 67 else "protCTe")
    prot.set("versao", VERSAO)
    inf = _el(prot, "infProt")
    _el(inf, "tpAmb", tp_amb(ambiente))
    _el(inf, "verAplic", VER_APLIC)
    _el(inf, "chCTe", chave)
    _el(inf, "dhRecbto", xml_datetime(received))
    _el(inf, "nProt", protocolo)
    _el(inf, "digVal", digest)
    _el(inf, "cStat", status)
    _el(inf, "xMotivo", motivo)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class CteEvent:
    chave: str
    cnpj: str
    cuf: str
    tp_evento: str
    sequencia: int
    data_evento: datetime
    protocolo: str
    detail: dict[str, Any]

    @property
    def id_tag(self) -> str:
        return f"ID{self.tp_evento}{self.chave}{self.sequencia:03d}"


def event_proc(
    event: CteEvent, ambiente: str, status: str = "135", motivo: str = "Evento registrado e vinculado a CT-e"
) -> bytes:
    """``procEventoCTe``: the signed ``eventoCTe`` and its ``retEventoCTe``."""
    root = _root("procEventoCTe", versao=VERSAO)
    evento = _el(root, "eventoCTe")
    evento.set("versao", VERSAO)
    inf = _el(evento, "infEvento")
    inf.set("Id", event.id_tag)
    _el(inf, "cOrgao", event.cuf)
    _el(inf, "tpAmb", tp_amb(ambiente))
    _doc(inf, event.cnpj)
    _el(inf, "chCTe", event.chave)
    _el(inf, "dhEvento", xml_datetime(event.data_evento))
    _el(inf, "tpEvento", event.tp_evento)
    _el(inf, "nSeqEvento", str(event.sequencia))
    det = _el(inf, "detEvento")
    det.set("versaoEvento", VERSAO)
    body = _el(det, "evento")
    _el(body, "descEvento", EVENTS.get(event.tp_evento, "Evento"))
    for key, value in event.detail.items():
        _generic(body, key, value)
    sign_enveloped(inf, evento)
    ret = _el(root, "retEventoCTe")
    ret.set("versao", VERSAO)
    rinf = _el(ret, "infEvento")
    _el(rinf, "tpAmb", tp_amb(ambiente))
    _el(rinf, "verAplic", VER_APLIC)
    _el(rinf, "cOrgao", event.cuf)
    _el(rinf, "cStat", status)
    _el(rinf, "xMotivo", motivo)
    _el(rinf, "chCTe", event.chave)
    _el(rinf, "tpEvento", event.tp_evento)
    _el(rinf, "nSeqEvento", str(event.sequencia))
    _el(rinf, "dhRegEvento", xml_datetime(event.data_evento))
    _el(rinf, "nProt", event.protocolo)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def inut_proc(
    cnpj: str,
    cuf: str,
    modelo: int,
    serie: int,
    first: int,
    last: int,
    justificativa: str,
    when: datetime,
    protocolo: str,
    ambiente: str,
) -> bytes:
    """``procInutCTe``: the signed ``inutCTe`` and its homologated answer."""
    ident = f"ID{cuf}{cnpj}{modelo:02d}{serie:03d}{first:09d}{last:09d}"
    root = _root("procInutCTe", versao=VERSAO)
    inut = _el(root, "inutCTe")
    inut.set("versao", VERSAO)
    inf = _el(inut, "infInut")
    inf.set("Id", ident)
    _el(inf, "tpAmb", tp_amb(ambiente))
    _el(inf, "xServ", "INUTILIZAR")
    _el(inf, "cUF", cuf)
    _el(inf, "ano", f"{when:%y}")
    _el(inf, "CNPJ", cnpj)
    _el(inf, "mod", str(modelo))
    _el(inf, "serie", str(serie))
    _el(inf, "nCTIni", str(first))
    _el(inf, "nCTFin", str(last))
    _el(inf, "xJust", text(justificativa, 255))
    sign_enveloped(inf, inut)
    ret = _el(root, "retInutCTe")
    ret.set("versao", VERSAO)
    rinf = _el(ret, "infInut")
    _el(rinf, "tpAmb", tp_amb(ambiente))
    _el(rinf, "verAplic", VER_APLIC)
    _el(rinf, "cStat", "102")
    _el(rinf, "xMotivo", "Inutilizacao de numero homologado")
    _el(rinf, "cUF", cuf)
    _el(rinf, "dhRecbto", xml_datetime(when))
    _el(rinf, "nProt", protocolo)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
