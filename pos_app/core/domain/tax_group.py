"""Tax groups (grupos tributários): a product's complete tax situation, defined once by a manager
and referenced by products ("Tributado 18%", "ST", "Isento"...).

Field names are those of the Focus NFC-e item fields they feed, so the CSV columns, the CLI and
the payload speak the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation

from pos_app.core.domain.errors import ValidationError
from pos_app.core.fiscal.tax_tables import (
    CLASSTRIB_SEM_VALORES,
    COFINS_CST,
    CSOSN,
    CST_ICMS,
    IBSCBS_CST,
    ICMS_MODALIDADE_BC,
    PIS_COFINS_COM_ALIQUOTA,
    PIS_CST,
    cclasstrib_table,
)

__all__ = ["TAX_GROUP_FIELDS", "TaxGroup", "tax_group_from_row"]

ICMS_WITH_RATE = frozenset({"00", "20"})
"""CSTs whose rate, base and modality are mandatory (seed item table; 20 adds the reduction)."""
ICMS_RATE_OPTIONAL = frozenset({"90", "900"})
"""CST/CSOSN "outras": rate optional; when given, the modality too."""
ICMS_WITH_FCP = frozenset({"00", "20", "90"})
_ORIGENS = frozenset("012345678")

TAX_GROUP_FIELDS: tuple[str, ...] = (
    "grupo_tributario",
    "icms_origem",
    "icms_situacao_tributaria",
    "icms_modalidade_base_calculo",
    "icms_aliquota",
    "icms_reducao_base_calculo",
    "fcp_percentual",
    "pis_situacao_tributaria",
    "pis_aliquota_porcentual",
    "cofins_situacao_tributaria",
    "cofins_aliquota_porcentual",
    "ibs_cbs_situacao_tributaria",
    "ibs_cbs_classificacao_tributaria",
    "cest",
    "tributos_percentual",
)
"""CSV columns of a tax group (also accepted on catalog rows)."""

TAX_FIELDS: tuple[str, ...] = TAX_GROUP_FIELDS[1:]
"""The tax situation itself (a group's columns without its name), named after the Focus item fields."""


@dataclass(frozen=True)
class TaxGroup:
    nome: str
    icms_situacao_tributaria: str
    icms_origem: str = "0"
    icms_modalidade_base_calculo: str | None = None
    icms_aliquota: Decimal | None = None
    icms_reducao_base_calculo: Decimal | None = None
    fcp_percentual: Decimal | None = None
    pis_situacao_tributaria: str | None = None
    pis_aliquota_porcentual: Decimal | None = None
    cofins_situacao_tributaria: str | None = None
    cofins_aliquota_porcentual: Decimal | None = None
    ibs_cbs_situacao_tributaria: str = "000"
    ibs_cbs_classificacao_tributaria: str = "000001"
    cest: str | None = None
    tributos_percentual: Decimal | None = None
    id: int | None = None

    @property
    def regime(self) -> str:
        """``"simples"`` for a CSOSN group, ``"normal"`` for a CST group."""
        return "simples" if self.icms_situacao_tributaria in CSOSN else "normal"

    @property
    def ibs_cbs_com_valores(self) -> bool:
        return self.ibs_cbs_situacao_tributaria not in CLASSTRIB_SEM_VALORES

    def describe(self) -> str:
        parts = [f"{'CSOSN' if self.regime == 'simples' else 'CST'} {self.icms_situacao_tributaria}"]
        if self.icms_aliquota is not None:
            parts.append(f"ICMS {self.icms_aliquota}%")
        if self.icms_reducao_base_calculo is not None:
            parts.append(f"redução {self.icms_reducao_base_calculo}%")
        parts.append(f"IBS/CBS {self.ibs_cbs_situacao_tributaria}/{self.ibs_cbs_classificacao_tributaria}")
        return ", ".join(parts)

    def validate(self, regime: str | None = None) -> None:
        """Raise :class:`ValidationError` naming the first field that is wrong."""
        nome = (self.nome or "").strip()
        if not nome or len(nome) > 60:
            raise ValidationError("grupo_tributario", "Nome do grupo tributário: 1 a 60 caracteres")
        if self.icms_origem not in _ORIGENS:
            raise ValidationError(
                "icms_origem", f"Origem da mercadoria inválida: {self.icms_origem!r} (0 a 8)"
            )
        cst = self.icms_situacao_tributaria
        if cst not in CST_ICMS and cst not in CSOSN:
            raise ValidationError(
                "icms_situacao_tributaria",
                f"CST/CSOSN do ICMS inválido: {cst!r} (CST: {', '.join(CST_ICMS)}; CSOSN: {', '.join(CSOSN)})",
            )
        if regime is not None and self.regime != regime:
            kind = "CSOSN (Simples Nacional)" if self.regime == "simples" else "CST (regime normal)"
            raise ValidationError(
                "icms_situacao_tributaria",
                f"Grupo {nome!r} usa {kind} {cst}, incompatível com o regime do emitente ({regime})",
            )
        _percent("icms_aliquota", "Alíquota do ICMS", self.icms_aliquota)
        _percent("fcp_percentual", "Percentual do FCP", self.fcp_percentual)
        mod = self.icms_modalidade_base_calculo
        if mod is not None and mod not in ICMS_MODALIDADE_BC:
            raise ValidationError(
                "icms_modalidade_base_calculo", f"Modalidade da base do ICMS inválida: {mod!r} (0 a 3)"
            )
        if cst in ICMS_WITH_RATE:
            if self.icms_aliquota is None:
                raise ValidationError("icms_aliquota", f"Alíquota do ICMS obrigatória para o CST {cst}")
            if mod is None:
                raise ValidationError(
                    "icms_modalidade_base_calculo", f"Modalidade da base do ICMS obrigatória para o CST {cst}"
                )
        elif cst in ICMS_RATE_OPTIONAL:
            if self.icms_aliquota is not None and mod is None:
                raise ValidationError(
                    "icms_modalidade_base_calculo",
                    "Modalidade da base do ICMS obrigatória quando há alíquota",
                )
        elif self.icms_aliquota is not None or mod is not None:
            field = "icms_aliquota" if self.icms_aliquota is not None else "icms_modalidade_base_calculo"
            raise ValidationError(
                field, f"O CST/CSOSN {cst} não tem ICMS próprio: deixe alíquota e modalidade vazias"
            )
        red = self.icms_reducao_base_calculo
        if cst == "20":
            if red is None or not Decimal(0) < red < 100:
                raise ValidationError(
                    "icms_reducao_base_calculo",
                    "Redução da base do ICMS obrigatória no CST 20 (entre 0 e 100, exclusive)",
                )
        elif red is not None and cst != "90":
            raise ValidationError(
                "icms_reducao_base_calculo", f"Redução de base não se aplica ao CST/CSOSN {cst}"
            )
        if self.fcp_percentual is not None and cst not in ICMS_WITH_FCP:
            raise ValidationError("fcp_percentual", f"FCP não se aplica ao CST/CSOSN {cst} (só 00, 20, 90)")
        for tax, table, cst_value, rate in (
            ("pis", PIS_CST, self.pis_situacao_tributaria, self.pis_aliquota_porcentual),
            ("cofins", COFINS_CST, self.cofins_situacao_tributaria, self.cofins_aliquota_porcentual),
        ):
            label = tax.upper()
            if cst_value is None:
                if self.regime == "normal":
                    raise ValidationError(
                        f"{tax}_situacao_tributaria", f"CST do {label} obrigatório no regime normal"
                    )
                if rate is not None:
                    raise ValidationError(
                        f"{tax}_aliquota_porcentual", f"Alíquota do {label} sem CST do {label}"
                    )
                continue
            if cst_value not in table:
                raise ValidationError(f"{tax}_situacao_tributaria", f"CST do {label} inválido: {cst_value!r}")
            _percent(f"{tax}_aliquota_porcentual", f"Alíquota do {label}", rate)
            if cst_value in PIS_COFINS_COM_ALIQUOTA and rate is None:
                raise ValidationError(
                    f"{tax}_aliquota_porcentual", f"Alíquota do {label} obrigatória no CST {cst_value}"
                )
            if cst_value not in PIS_COFINS_COM_ALIQUOTA and rate not in (None, Decimal(0)):
                raise ValidationError(
                    f"{tax}_aliquota_porcentual", f"O CST {cst_value} do {label} não leva alíquota percentual"
                )
        ibs_cst = self.ibs_cbs_situacao_tributaria
        if ibs_cst not in IBSCBS_CST:
            raise ValidationError("ibs_cbs_situacao_tributaria", f"CST do IBS/CBS inválido: {ibs_cst!r}")
        ct = cclasstrib_table().get(self.ibs_cbs_classificacao_tributaria)
        if ct is None:
            raise ValidationError(
                "ibs_cbs_classificacao_tributaria",
                f"cClassTrib desconhecido: {self.ibs_cbs_classificacao_tributaria!r} (tabela em resources/fiscal)",
            )
        if ct.cst != ibs_cst:
            raise ValidationError(
                "ibs_cbs_classificacao_tributaria",
                f"cClassTrib {ct.codigo} pertence ao CST {ct.cst}, não ao CST {ibs_cst} do IBS/CBS",
            )
        if self.cest is not None and (len(self.cest) != 7 or not self.cest.isdigit()):
            raise ValidationError("cest", f"CEST inválido: {self.cest!r} (7 dígitos)")
        _percent("tributos_percentual", "Percentual aproximado de tributos", self.tributos_percentual)

    def as_row(self) -> dict[str, str]:
        """The CSV/JSON row of :data:`TAX_GROUP_FIELDS` (empty text for unset values)."""
        row: dict[str, str] = {}
        for name in TAX_GROUP_FIELDS:
            value = self.nome if name == "grupo_tributario" else getattr(self, name)
            row[name] = "" if value is None else str(value)
        return row


def _percent(field: str, label: str, value: Decimal | None) -> None:
    if value is not None and not Decimal(0) <= value <= 100:
        raise ValidationError(field, f"{label} deve estar entre 0 e 100: {value}")
    if value is not None and -value.as_tuple().exponent > 4:  # type: ignore[operator]
        raise ValidationError(field, f"{label} aceita no máximo 4 casas decimais: {value}")


def _decimal(row: Mapping[str, str | None], name: str) -> Decimal | None:
    raw = (row.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", ".").rstrip("%").strip())
    except InvalidOperation as exc:
        raise ValidationError(name, f"Número inválido em {name}: {raw!r}") from exc
    if not value.is_finite():
        raise ValidationError(name, f"Número inválido em {name}: {raw!r}")
    return value


def _code(row: Mapping[str, str | None], name: str, width: int) -> str | None:
    raw = (row.get(name) or "").strip()
    if not raw:
        return None
    # Spreadsheets drop leading zeros ("0" for "00", "1" for "000001"): put them back.
    return raw.zfill(width) if raw.isdigit() else raw


def tax_group_from_row(row: Mapping[str, str | None], *, nome: str | None = None) -> TaxGroup:
    """Build (and validate) a tax group from a CSV row; raises :class:`ValidationError` per field."""
    name = (nome if nome is not None else (row.get("grupo_tributario") or "")).strip()
    cst = _code(row, "icms_situacao_tributaria", 2)
    if cst is None:
        raise ValidationError("icms_situacao_tributaria", "CST/CSOSN do ICMS: preenchimento obrigatório")
    group = TaxGroup(
        nome=name,
        icms_situacao_tributaria=cst,
        icms_origem=(row.get("icms_origem") or "").strip() or "0",
        icms_modalidade_base_calculo=(row.get("icms_modalidade_base_calculo") or "").strip() or None,
        icms_aliquota=_decimal(row, "icms_aliquota"),
        icms_reducao_base_calculo=_decimal(row, "icms_reducao_base_calculo"),
        fcp_percentual=_decimal(row, "fcp_percentual"),
        pis_situacao_tributaria=_code(row, "pis_situacao_tributaria", 2),
        pis_aliquota_porcentual=_decimal(row, "pis_aliquota_porcentual"),
        cofins_situacao_tributaria=_code(row, "cofins_situacao_tributaria", 2),
        cofins_aliquota_porcentual=_decimal(row, "cofins_aliquota_porcentual"),
        ibs_cbs_situacao_tributaria=_code(row, "ibs_cbs_situacao_tributaria", 3) or "000",
        ibs_cbs_classificacao_tributaria=_code(row, "ibs_cbs_classificacao_tributaria", 6) or "000001",
        cest=(row.get("cest") or "").strip() or None,
        tributos_percentual=_decimal(row, "tributos_percentual"),
    )
    group.validate()
    return group


def group_fields_present(row: Mapping[str, str | None]) -> bool:
    """Whether a catalog row defines a group inline (any tax column beyond the old header)."""
    inline = set(TAX_GROUP_FIELDS) - {
        "grupo_tributario",
        "icms_origem",
        "icms_situacao_tributaria",
        "cest",
        "tributos_percentual",
    }
    return any((row.get(name) or "").strip() for name in inline)


_FIELD_NAMES = {f.name for f in fields(TaxGroup)}


def with_id(group: TaxGroup, group_id: int) -> TaxGroup:
    return replace(group, id=group_id)
