"""The XML documents the sandbox hands out: ``nfeProc`` (NF-e 4.00, model 65), the cancellation
``procEventoNFe`` and the inutilização ``ProcInutNFe``. All are signed and valid against PL_009_V4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lxml import etree

from pos_app.core.fiscal.qrcode import qr_hash_v2, qr_url, qr_v2_online
from pos_app.core.fiscal.states import qrcode_base_url, timezone_for, url_consulta
from pos_app.sandbox.companies import CompanyConfig
from pos_app.sandbox.signing import sign_enveloped
from pos_app.sandbox.tax_rules import IbsCbsInput
from pos_app.sandbox.validation import ZERO, ItemInput, NoteInput, PaymentInput, money

NFE_NS = "http://www.portalfiscal.inf.br/nfe"
VER_PROC = "SANDBOX-FOCUS 1.0"
VER_APLIC = "SANDBOX-1.0"
HOMOLOGATION_NAME = "NF-E EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL"
BRASILIA = timezone(timedelta(hours=-3))

_SIMPLES_102 = {"102", "103", "300", "400"}
_PIS_OUTR = {
    "49", "50", "51", "52", "53", "54", "55", "56", "60", "61", "62", "63", "64", "65", "66", "67",
    "70", "71", "72", "73", "74", "75", "98", "99",
}  # fmt: skip
_PIS_NT = {"04", "05", "06", "07", "08", "09"}


def tp_amb(ambiente: str) -> str:
    return "1" if ambiente == "producao" else "2"


def xml_datetime(value: datetime) -> str:
    """``AAAA-MM-DDThh:mm:ss±hh:00`` as TDateTimeUTC wants it (no fraction, whole-hour offset)."""
    return value.replace(microsecond=0).isoformat()


def local_time(value: datetime, uf: str) -> datetime:
    return value.astimezone(timezone_for(uf)).replace(microsecond=0)


def emission_time(value: datetime, uf: str) -> datetime:
    """The emission moment as written in the XML: the sender's offset when the schema allows it."""
    offset = value.utcoffset()
    if offset is not None and offset % timedelta(hours=1) == timedelta(0):
        hours = offset // timedelta(hours=1)
        if -11 <= hours <= 12:
            return value.replace(microsecond=0)
    return local_time(value, uf)


def text(value: str, max_len: int = 0) -> str:
    """Make free text fit the schema's TString: Latin-1 only, no control chars, trimmed."""
    cleaned = "".join(ch if " " <= ch <= "\u00ff" and ch != "\x7f" else " " for ch in value)
    cleaned = re.sub(r"\s+", " ", cleaned).strip() or "-"
    return cleaned[:max_len].rstrip() if max_len else cleaned


def d2(value: Decimal) -> str:
    return f"{money(value):.2f}"


def d4(value: Decimal) -> str:
    return f"{value:.4f}"


def d10(value: Decimal) -> str:
    return f"{value:.10f}"


def qr_online(company: CompanyConfig, chave: str, ambiente: str) -> str:
    base = qrcode_base_url(company.uf, ambiente)
    return qr_v2_online(base, chave, tp_amb(ambiente), company.csc_id, company.csc)


def qr_v2_offline(
    company: CompanyConfig, chave: str, ambiente: str, dh_emi: datetime, valor_total: Decimal, digest_b64: str
) -> str:
    """v2 offline: ``chave|2|tpAmb|DD|vNF|digVal(hex)|idCSC|HASH`` (needs the signed XML's digest)."""
    dig_hex = digest_b64.encode("ascii").hex().upper()
    data = f"{chave}|2|{tp_amb(ambiente)}|{dh_emi:%d}|{d2(valor_total)}|{dig_hex}|{int(company.csc_id)}"
    return qr_url(qrcode_base_url(company.uf, ambiente), f"{data}|{qr_hash_v2(data, company.csc)}")


@dataclass(frozen=True)
class NfeIdentity:
    """What identifies one NF-e: its key and the ide fields the key is made of."""

    chave: str
    cnf: str
    numero: int
    serie: int
    tp_emis: int
    dh_emi: datetime
    dh_cont: datetime | None = None
    x_just: str | None = None


@dataclass(frozen=True)
class BuiltNfe:
    xml: bytes  # the signed <NFe>
    digest: str
    qrcode_url: str
    url_chave: str


@dataclass(frozen=True)
class Protocol:
    numero: str
    data_recebimento: datetime
    status: str = "100"
    motivo: str = "Autorizado o uso da NF-e"


def _sub(parent: etree._Element, tag: str, value: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NFE_NS}}}{tag}")
    if value is not None:
        element.text = value
    return element


def build_nfe(
    company: CompanyConfig,
    note: NoteInput,
    ident: NfeIdentity,
    ambiente: str,
    *,
    modelo: int = 65,
    dest: dict[str, Any] | None = None,
) -> BuiltNfe:
    """Build and sign the ``<NFe>`` (infNFe + infNFeSupl + Signature).

    ``modelo=55``: an NF-e to a CNPJ buyer printed as the DANFE Simplificado (tpImp 3), with the
    buyer's address and IE indicator from ``dest`` (the Focus ``*_destinatario`` fields) and no
    ``infNFeSupl`` (the NFC-e QR Code group)."""
    nfe = etree.Element(f"{{{NFE_NS}}}NFe", nsmap={None: NFE_NS})
    inf = _sub(nfe, "infNFe")
    inf.set("versao", "4.00")
    inf.set("Id", "NFe" + ident.chave)
    _ide(inf, company, note, ident, ambiente, modelo)
    _emit(inf, company)
    if modelo == 55:
        _dest_nfe(inf, note, ambiente, dest or {})
    else:
        _dest(inf, note, ambiente)
    for item in note.items:
        _det(inf, item)
    _total(inf, note)
    _sub(_sub(inf, "transp"), "modFrete", "9")
    _pag(inf, note)
    if note.informacoes_adicionais_contribuinte:
        _sub(_sub(inf, "infAdic"), "infCpl", text(note.informacoes_adicionais_contribuinte, 5000))

    digest = sign_enveloped(inf, nfe)
    if modelo == 55:
        return BuiltNfe(
            etree.tostring(nfe, encoding="UTF-8", xml_declaration=True),
            digest,
            "",
            url_consulta(company.uf, ambiente),
        )
    if ident.tp_emis == 9:
        qrcode = qr_v2_offline(company, ident.chave, ambiente, ident.dh_emi, note.valor_total, digest)
    else:
        qrcode = qr_online(company, ident.chave, ambiente)
    url_chave = url_consulta(company.uf, ambiente)
    supl = etree.Element(f"{{{NFE_NS}}}infNFeSupl")
    _sub(supl, "qrCode", qrcode)
    _sub(supl, "urlChave", url_chave)
    inf.addnext(supl)
    return BuiltNfe(etree.tostring(nfe, encoding="UTF-8", xml_declaration=True), digest, qrcode, url_chave)


def _ide(
    inf: etree._Element,
    company: CompanyConfig,
    note: NoteInput,
    ident: NfeIdentity,
    ambiente: str,
    modelo: int = 65,
) -> None:
    ide = _sub(inf, "ide")
    _sub(ide, "cUF", company.cuf)
    _sub(ide, "cNF", ident.cnf)
    _sub(ide, "natOp", text(note.natureza_operacao, 60))
    _sub(ide, "mod", str(modelo))
    _sub(ide, "serie", str(ident.serie))
    _sub(ide, "nNF", str(ident.numero))
    _sub(ide, "dhEmi", xml_datetime(ident.dh_emi))
    _sub(ide, "tpNF", "1")
    _sub(ide, "idDest", "1")
    _sub(ide, "cMunFG", company.codigo_municipio)
    _sub(ide, "tpImp", "3" if modelo == 55 else "4")  # 3: DANFE Simplificado
    _sub(ide, "tpEmis", str(ident.tp_emis))
    _sub(ide, "cDV", ident.chave[-1])
    _sub(ide, "tpAmb", tp_amb(ambiente))
    _sub(ide, "finNFe", "1")
    _sub(ide, "indFinal", "1")
    _sub(ide, "indPres", note.presenca_comprador)
    _sub(ide, "indIntermed", "0")
    _sub(ide, "procEmi", "0")
    _sub(ide, "verProc", VER_PROC)
    if ident.tp_emis != 1:  # 9 (NFC-e offline), 5 (NF-e generated beforehand at the counter)
        _sub(ide, "dhCont", xml_datetime(ident.dh_cont or ident.dh_emi))
        _sub(ide, "xJust", text(ident.x_just or "Sem comunicacao com a SEFAZ no momento da venda", 256))


def _emit(inf: etree._Element, company: CompanyConfig) -> None:
    emit = _sub(inf, "emit")
    _sub(emit, "CNPJ", company.cnpj)
    _sub(emit, "xNome", text(company.razao_social, 60))
    if company.nome_fantasia:
        _sub(emit, "xFant", text(company.nome_fantasia, 60))
    ender = _sub(emit, "enderEmit")
    _sub(ender, "xLgr", text(company.logradouro, 60))
    _sub(ender, "nro", text(company.numero, 60))
    _sub(ender, "xBairro", text(company.bairro, 60))
    _sub(ender, "cMun", company.codigo_municipio)
    _sub(ender, "xMun", text(company.municipio, 60))
    _sub(ender, "UF", company.uf)
    _sub(ender, "CEP", re.sub(r"\D", "", company.cep))
    _sub(ender, "cPais", "1058")
    _sub(ender, "xPais", "BRASIL")
    phone = re.sub(r"\D", "", company.telefone)
    if 6 <= len(phone) <= 14:
        _sub(ender, "fone", phone)
    ie = re.sub(r"\D", "", company.inscricao_estadual)
    _sub(emit, "IE", ie if 2 <= len(ie) <= 14 else "ISENTO")
    _sub(emit, "CRT", company.crt)


def _dest(inf: etree._Element, note: NoteInput, ambiente: str) -> None:
    if not (note.cpf_destinatario or note.cnpj_destinatario):
        return
    dest = _sub(inf, "dest")
    if note.cnpj_destinatario:
        _sub(dest, "CNPJ", note.cnpj_destinatario)
    else:
        _sub(dest, "CPF", note.cpf_destinatario)
    if ambiente != "producao":
        _sub(dest, "xNome", HOMOLOGATION_NAME)
    elif note.nome_destinatario:
        _sub(dest, "xNome", text(note.nome_destinatario, 60))
    _sub(dest, "indIEDest", "9")


def _dest_nfe(inf: etree._Element, note: NoteInput, ambiente: str, d: dict[str, Any]) -> None:
    """``dest`` of an NF-e model 55: CNPJ, name, address, IE indicator (and IE of a contributor)."""
    dest = _sub(inf, "dest")
    _sub(dest, "CNPJ", note.cnpj_destinatario or "")
    name = HOMOLOGATION_NAME if ambiente != "producao" else (note.nome_destinatario or "")
    _sub(dest, "xNome", text(name, 60))
    ender = _sub(dest, "enderDest")
    _sub(ender, "xLgr", text(str(d.get("logradouro_destinatario") or ""), 60))
    _sub(ender, "nro", text(str(d.get("numero_destinatario") or "S/N"), 60))
    if d.get("complemento_destinatario"):
        _sub(ender, "xCpl", text(str(d["complemento_destinatario"]), 60))
    _sub(ender, "xBairro", text(str(d.get("bairro_destinatario") or ""), 60))
    _sub(ender, "cMun", re.sub(r"\D", "", str(d.get("codigo_municipio_destinatario") or "")))
    _sub(ender, "xMun", text(str(d.get("municipio_destinatario") or ""), 60))
    _sub(ender, "UF", str(d.get("uf_destinatario") or ""))
    _sub(ender, "CEP", re.sub(r"\D", "", str(d.get("cep_destinatario") or "")))
    _sub(ender, "cPais", "1058")
    _sub(ender, "xPais", "BRASIL")
    ind = str(d.get("indicador_inscricao_estadual_destinatario") or "9")
    _sub(dest, "indIEDest", ind)
    if ind == "1":
        _sub(dest, "IE", re.sub(r"\D", "", str(d.get("inscricao_estadual_destinatario") or "")))
    if d.get("email_destinatario"):
        _sub(dest, "email", text(str(d["email_destinatario"]), 60))


def _det(inf: etree._Element, item: ItemInput) -> None:
    det = _sub(inf, "det")
    det.set("nItem", str(item.numero_item))
    prod = _sub(det, "prod")
    _sub(prod, "cProd", text(item.codigo_produto, 60))
    _sub(prod, "cEAN", item.codigo_barras_comercial)
    _sub(prod, "xProd", text(item.descricao, 120))
    _sub(prod, "NCM", item.codigo_ncm)
    if item.cest:
        _sub(prod, "CEST", item.cest)
    _sub(prod, "CFOP", item.cfop)
    _sub(prod, "uCom", text(item.unidade_comercial, 6))
    _sub(prod, "qCom", d4(item.quantidade_comercial))
    _sub(prod, "vUnCom", d10(item.valor_unitario_comercial))
    _sub(prod, "vProd", d2(item.valor_bruto))
    _sub(prod, "cEANTrib", item.codigo_barras_tributavel)
    _sub(prod, "uTrib", text(item.unidade_tributavel, 6))
    _sub(prod, "qTrib", d4(item.quantidade_tributavel))
    _sub(prod, "vUnTrib", d10(item.valor_unitario_tributavel))
    if item.valor_frete > 0:
        _sub(prod, "vFrete", d2(item.valor_frete))
    if item.valor_desconto > 0:
        _sub(prod, "vDesc", d2(item.valor_desconto))
    _sub(prod, "indTot", "1")

    imposto = _sub(det, "imposto")
    if item.valor_total_tributos is not None:
        _sub(imposto, "vTotTrib", d2(item.valor_total_tributos))
    _icms(_sub(imposto, "ICMS"), item)
    t = item.taxes
    _pis_cofins(imposto, "PIS", item.pis_situacao_tributaria, t.pis_base_calculo, t.pis_aliquota, t.pis_valor)
    _pis_cofins(
        imposto,
        "COFINS",
        item.cofins_situacao_tributaria,
        t.cofins_base_calculo,
        t.cofins_aliquota,
        t.cofins_valor,
    )
    if t.ibs_cbs is not None:
        _ibs_cbs(imposto, t.ibs_cbs)


def _ibs_cbs(imposto: etree._Element, g: IbsCbsInput) -> None:
    """Group IBSCBS (NT 2025.002-RTC): CST, cClassTrib and, when taxed, gIBSCBS with UF, Mun and CBS."""
    group = _sub(imposto, "IBSCBS")
    _sub(group, "CST", g.cst)
    _sub(group, "cClassTrib", g.cclasstrib)
    if not g.com_valores:
        return
    values = _sub(group, "gIBSCBS")
    _sub(values, "vBC", d2(g.base or ZERO))
    for tag, rate, value, red in (
        ("IBSUF", g.ibs_uf_aliquota, g.ibs_uf_valor, g.reducao_ibs),
        ("IBSMun", g.ibs_mun_aliquota, g.ibs_mun_valor, g.reducao_ibs),
    ):
        sub = _sub(values, f"g{tag}")
        _sub(sub, f"p{tag}", d4(rate or ZERO))
        _red(sub, rate or ZERO, red)
        _sub(sub, f"v{tag}", d2(value or ZERO))
    _sub(values, "vIBS", d2(g.ibs_valor))
    cbs = _sub(values, "gCBS")
    _sub(cbs, "pCBS", d4(g.cbs_aliquota or ZERO))
    _red(cbs, g.cbs_aliquota or ZERO, g.reducao_cbs)
    _sub(cbs, "vCBS", d2(g.cbs_valor or ZERO))


def _red(parent: etree._Element, rate: Decimal, reducao: Decimal) -> None:
    if reducao:
        red = _sub(parent, "gRed")
        _sub(red, "pRedAliq", d4(reducao))
        _sub(red, "pAliqEfet", d4(rate * (100 - reducao) / 100))


def _icms(icms: etree._Element, item: ItemInput) -> None:
    code = item.icms_situacao_tributaria
    if code in _SIMPLES_102 or code in ("500", "900"):
        group = _sub(icms, "ICMSSN102" if code in _SIMPLES_102 else f"ICMSSN{code}")
        _sub(group, "orig", item.icms_origem)
        _sub(group, "CSOSN", code)
        return
    group_name = {"00": "ICMS00", "20": "ICMS20", "40": "ICMS40", "41": "ICMS40", "50": "ICMS40"}.get(
        code, f"ICMS{code}"
    )
    group = _sub(icms, group_name)
    _sub(group, "orig", item.icms_origem)
    _sub(group, "CST", code)
    if code in ("00", "20") or (code == "90" and item.icms_aliquota > 0):
        _sub(group, "modBC", item.icms_modalidade_base_calculo)
        if code == "20":
            _sub(group, "pRedBC", d4(item.icms_reducao_base_calculo or ZERO))
        _sub(group, "vBC", d2(item.icms_base_calculo))
        _sub(group, "pICMS", d4(item.icms_aliquota))
        _sub(group, "vICMS", d2(item.icms_valor))
        t = item.taxes
        if t.fcp_percentual is not None and t.fcp_base_calculo is not None and code != "90":
            if code == "20":
                _sub(group, "vBCFCP", d2(t.fcp_base_calculo))
            _sub(group, "pFCP", d4(t.fcp_percentual))
            _sub(group, "vFCP", d2(t.fcp_valor))


def _pis_cofins(
    imposto: etree._Element,
    tax: str,
    cst: str,
    base: Decimal = ZERO,
    rate: Decimal = ZERO,
    value: Decimal = ZERO,
) -> None:
    outer = _sub(imposto, tax)
    if cst in _PIS_NT:
        _sub(_sub(outer, f"{tax}NT"), "CST", cst)
        return
    if cst in ("01", "02"):
        group = _sub(outer, f"{tax}Aliq")
    else:
        group = _sub(outer, f"{tax}Outr")
        cst = cst if cst in _PIS_OUTR else "99"
    _sub(group, "CST", cst)
    _sub(group, "vBC", d2(base))
    _sub(group, f"p{tax}", d4(rate))
    _sub(group, f"v{tax}", d2(value))


def _total(inf: etree._Element, note: NoteInput) -> None:
    tot = _sub(_sub(inf, "total"), "ICMSTot")
    values = [
        ("vBC", note.icms_base_calculo),
        ("vICMS", note.icms_valor_total),
        ("vICMSDeson", ZERO),
        ("vFCP", sum((i.taxes.fcp_valor for i in note.items), ZERO)),
        ("vBCST", ZERO),
        ("vST", ZERO),
        ("vFCPST", ZERO),
        ("vFCPSTRet", ZERO),
        ("vProd", note.valor_produtos),
        ("vFrete", note.valor_frete),
        ("vSeg", ZERO),
        ("vDesc", note.valor_desconto),
        ("vII", ZERO),
        ("vIPI", ZERO),
        ("vIPIDevol", ZERO),
        ("vPIS", sum((i.taxes.pis_valor for i in note.items), ZERO)),
        ("vCOFINS", sum((i.taxes.cofins_valor for i in note.items), ZERO)),
        ("vOutro", ZERO),
        ("vNF", note.valor_total),
    ]
    for tag, value in values:
        _sub(tot, tag, d2(value))
    if note.valor_total_tributos is not None:
        _sub(tot, "vTotTrib", d2(note.valor_total_tributos))
    groups = [i.taxes.ibs_cbs for i in note.items if i.taxes.ibs_cbs is not None]
    if groups:
        _ibs_cbs_tot(tot.getparent(), [g for g in groups if g.com_valores])


def _ibs_cbs_tot(total: etree._Element, groups: list[IbsCbsInput]) -> None:
    """IBSCBSTot: sums of the items (outside vNF in 2026)."""
    tot = _sub(total, "IBSCBSTot")
    _sub(tot, "vBCIBSCBS", d2(sum((g.base or ZERO for g in groups), ZERO)))
    ibs = _sub(tot, "gIBS")
    for tag, attr in (("gIBSUF", "ibs_uf_valor"), ("gIBSMun", "ibs_mun_valor")):
        sub = _sub(ibs, tag)
        _sub(sub, "vDif", "0.00")
        _sub(sub, "vDevTrib", "0.00")
        _sub(sub, "v" + tag[1:], d2(sum((getattr(g, attr) or ZERO for g in groups), ZERO)))
    _sub(ibs, "vIBS", d2(sum((g.ibs_valor for g in groups), ZERO)))
    _sub(ibs, "vCredPres", "0.00")
    _sub(ibs, "vCredPresCondSus", "0.00")
    cbs = _sub(tot, "gCBS")
    _sub(cbs, "vDif", "0.00")
    _sub(cbs, "vDevTrib", "0.00")
    _sub(cbs, "vCBS", d2(sum((g.cbs_valor or ZERO for g in groups), ZERO)))
    _sub(cbs, "vCredPres", "0.00")
    _sub(cbs, "vCredPresCondSus", "0.00")


def _pag(inf: etree._Element, note: NoteInput) -> None:
    pag = _sub(inf, "pag")
    for payment in note.payments:
        _det_pag(pag, payment)
    if note.valor_troco > 0:
        _sub(pag, "vTroco", d2(note.valor_troco))


def _det_pag(pag: etree._Element, payment: PaymentInput) -> None:
    det = _sub(pag, "detPag")
    _sub(det, "tPag", payment.forma_pagamento)
    if payment.forma_pagamento == "99":
        _sub(det, "xPag", text(payment.descricao or "Outros", 60))
    _sub(det, "vPag", d2(payment.valor_pagamento))
    if payment.forma_pagamento in ("03", "04") or (
        payment.forma_pagamento == "17" and payment.tipo_integracao
    ):
        card = _sub(det, "card")
        _sub(card, "tpIntegra", payment.tipo_integracao or "2")
        if payment.cnpj_credenciadora:
            _sub(card, "CNPJ", payment.cnpj_credenciadora)
        if payment.bandeira_operadora:
            _sub(card, "tBand", payment.bandeira_operadora)
        if payment.numero_autorizacao:
            _sub(card, "cAut", text(payment.numero_autorizacao, 128))


def nfe_proc(nfe_xml: bytes, chave: str, digest: str, protocol: Protocol, ambiente: str) -> bytes:
    """Wrap a signed ``<NFe>`` with its authorization protocol (``<nfeProc>``)."""
    nfe = etree.fromstring(nfe_xml)
    proc = etree.Element(f"{{{NFE_NS}}}nfeProc", nsmap={None: NFE_NS})
    proc.set("versao", "4.00")
    proc.append(nfe)
    prot = _sub(proc, "protNFe")
    prot.set("versao", "4.00")
    inf = _sub(prot, "infProt")
    inf.set("Id", "ID" + protocol.numero)
    _sub(inf, "tpAmb", tp_amb(ambiente))
    _sub(inf, "verAplic", VER_APLIC)
    _sub(inf, "chNFe", chave)
    _sub(inf, "dhRecbto", xml_datetime(protocol.data_recebimento))
    _sub(inf, "nProt", protocol.numero)
    _sub(inf, "digVal", digest)
    _sub(inf, "cStat", protocol.status)
    _sub(inf, "xMotivo", protocol.motivo)
    return etree.tostring(proc, encoding="UTF-8", xml_declaration=True)


@dataclass(frozen=True)
class CancelEvent:
    chave: str
    cnpj: str
    cuf: str
    protocolo_nfe: str
    justificativa: str
    data_evento: datetime
    data_registro: datetime
    protocolo_evento: str

    @property
    def id_tag(self) -> str:
        return f"ID110111{self.chave}01"


def cancel_proc(event: CancelEvent, ambiente: str) -> bytes:
    """``<procEventoNFe>`` of an authorized cancellation (event 110111, cStat 135)."""
    proc = etree.Element(f"{{{NFE_NS}}}procEventoNFe", nsmap={None: NFE_NS})
    proc.set("versao", "1.00")
    evento = _sub(proc, "evento")
    evento.set("versao", "1.00")
    inf = _sub(evento, "infEvento")
    inf.set("Id", event.id_tag)
    _sub(inf, "cOrgao", event.cuf)
    _sub(inf, "tpAmb", tp_amb(ambiente))
    _sub(inf, "CNPJ", event.cnpj)
    _sub(inf, "chNFe", event.chave)
    _sub(inf, "dhEvento", xml_datetime(event.data_evento))
    _sub(inf, "tpEvento", "110111")
    _sub(inf, "nSeqEvento", "1")
    _sub(inf, "verEvento", "1.00")
    det = _sub(inf, "detEvento")
    det.set("versao", "1.00")
    _sub(det, "descEvento", "Cancelamento")
    _sub(det, "nProt", event.protocolo_nfe)
    _sub(det, "xJust", text(event.justificativa, 255))
    sign_enveloped(inf, evento)

    ret = _sub(proc, "retEvento")
    ret.set("versao", "1.00")
    ret_inf = _sub(ret, "infEvento")
    _sub(ret_inf, "tpAmb", tp_amb(ambiente))
    _sub(ret_inf, "verAplic", VER_APLIC)
    _sub(ret_inf, "cOrgao", event.cuf)
    _sub(ret_inf, "cStat", "135")
    _sub(ret_inf, "xMotivo", "Evento registrado e vinculado a NF-e")
    _sub(ret_inf, "chNFe", event.chave)
    _sub(ret_inf, "tpEvento", "110111")
    _sub(ret_inf, "xEvento", "Cancelamento registrado")
    _sub(ret_inf, "nSeqEvento", "1")
    # the schema only accepts Brazilian offsets (-01:00 to -04:00) here
    _sub(ret_inf, "dhRegEvento", xml_datetime(event.data_registro.astimezone(BRASILIA)))
    _sub(ret_inf, "nProt", event.protocolo_evento)
    return etree.tostring(proc, encoding="UTF-8", xml_declaration=True)


@dataclass(frozen=True)
class Inutilizacao:
    cnpj: str
    cuf: str
    serie: int
    numero_inicial: int
    numero_final: int
    justificativa: str
    ano: str  # 2 digits
    data_recebimento: datetime
    protocolo: str

    @property
    def id_digits(self) -> str:
        return f"{self.cuf}{self.ano}{self.cnpj}65{self.serie:03d}{self.numero_inicial:09d}{self.numero_final:09d}"


def inut_proc(inut: Inutilizacao, ambiente: str) -> bytes:
    """``<ProcInutNFe>`` of a homologated inutilização (cStat 102)."""
    proc = etree.Element(f"{{{NFE_NS}}}ProcInutNFe", nsmap={None: NFE_NS})
    proc.set("versao", "4.00")
    inut_el = _sub(proc, "inutNFe")
    inut_el.set("versao", "4.00")
    inf = _sub(inut_el, "infInut")
    inf.set("Id", "ID" + inut.id_digits)
    _sub(inf, "tpAmb", tp_amb(ambiente))
    _sub(inf, "xServ", "INUTILIZAR")
    _sub(inf, "cUF", inut.cuf)
    _sub(inf, "ano", inut.ano)
    _sub(inf, "CNPJ", inut.cnpj)
    _sub(inf, "mod", "65")
    _sub(inf, "serie", str(inut.serie))
    _sub(inf, "nNFIni", str(inut.numero_inicial))
    _sub(inf, "nNFFin", str(inut.numero_final))
    _sub(inf, "xJust", text(inut.justificativa, 255))
    sign_enveloped(inf, inut_el)

    ret = _sub(proc, "retInutNFe")
    ret.set("versao", "4.00")
    ret_inf = _sub(ret, "infInut")
    _sub(ret_inf, "tpAmb", tp_amb(ambiente))
    _sub(ret_inf, "verAplic", VER_APLIC)
    _sub(ret_inf, "cStat", "102")
    _sub(ret_inf, "xMotivo", "Inutilizacao de numero homologado")
    _sub(ret_inf, "cUF", inut.cuf)
    _sub(ret_inf, "ano", inut.ano)
    _sub(ret_inf, "CNPJ", inut.cnpj)
    _sub(ret_inf, "mod", "65")
    _sub(ret_inf, "serie", str(inut.serie))
    _sub(ret_inf, "nNFIni", str(inut.numero_inicial))
    _sub(ret_inf, "nNFFin", str(inut.numero_final))
    _sub(ret_inf, "dhRecbto", xml_datetime(inut.data_recebimento))
    _sub(ret_inf, "nProt", inut.protocolo)
    return etree.tostring(proc, encoding="UTF-8", xml_declaration=True)
