"""Ready-made CT-e, CT-e OS and RPS batch payloads (demo files and integration tests), shaped like
the examples of the seed documents."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pos_app.sandbox.companies import DEMO_COMPANY

BRASILIA = timezone(timedelta(hours=-3))


def _stamp(when: datetime) -> str:
    return when.astimezone(BRASILIA).replace(microsecond=0).isoformat()


def sample_cte(
    data_emissao: datetime, *, numero: int = 1, serie: int = 1, cnpj: str = DEMO_COMPANY.cnpj, **extra: Any
) -> dict[str, Any]:
    """A road CT-e (modal rodoviário) from Curitiba to Pinhais, R$ 150,00."""
    payload: dict[str, Any] = {
        "numero": numero,
        "serie": serie,
        "cfop": "5353",
        "natureza_operacao": "PREST. DE SERV. TRANSPORTE A ESTAB. COMERCIAL",
        "data_emissao": _stamp(data_emissao),
        "tipo_documento": 0,
        "tipo_servico": 0,
        "codigo_municipio_envio": "4106902",
        "municipio_envio": "Curitiba",
        "uf_envio": "PR",
        "codigo_municipio_inicio": "4106902",
        "municipio_inicio": "Curitiba",
        "uf_inicio": "PR",
        "codigo_municipio_fim": "4119152",
        "municipio_fim": "Pinhais",
        "uf_fim": "PR",
        "retirar_mercadoria": "1",
        "indicador_inscricao_estadual_tomador": "9",
        "tomador": "0",
        "cnpj_emitente": cnpj,
        "cnpj_remetente": cnpj,
        "nome_remetente": "CT-E EMITIDO EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL",
        "logradouro_remetente": "Rua XV de Novembro",
        "numero_remetente": "1000",
        "bairro_remetente": "Centro",
        "codigo_municipio_remetente": "4106902",
        "municipio_remetente": "Curitiba",
        "uf_remetente": "PR",
        "cep_remetente": "80010000",
        "cpf_destinatario": "52998224725",
        "nome_destinatario": "CT-E EMITIDO EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL",
        "logradouro_destinatario": "Rua Alto Parana",
        "numero_destinatario": "190",
        "bairro_destinatario": "Centro",
        "codigo_municipio_destinatario": "4119152",
        "municipio_destinatario": "Pinhais",
        "uf_destinatario": "PR",
        "cep_destinatario": "83324000",
        "valor_total": "150.00",
        "valor_receber": "150.00",
        "icms_situacao_tributaria": "SN",
        "valor_total_carga": "2350.00",
        "produto_predominante": "GENEROS ALIMENTICIOS",
        "quantidades": [
            {"codigo_unidade_medida": "01", "tipo_medida": "PESO BRUTO", "quantidade": "320.0000"}
        ],
        "modal_rodoviario": {"rntrc": "12345678"},
    }
    payload.update(extra)
    return payload


def sample_cte_os(
    data_emissao: datetime, *, numero: int = 1, serie: int = 1, cnpj: str = DEMO_COMPANY.cnpj, **extra: Any
) -> dict[str, Any]:
    """A CT-e OS for a passenger transport service (modal rodoviário, tipo_servico 6)."""
    payload: dict[str, Any] = {
        "numero": numero,
        "serie": serie,
        "cfop": "5357",
        "natureza_operacao": "PRESTACAO DE SERVICO DE TRANSPORTE",
        "data_emissao": _stamp(data_emissao),
        "tipo_documento": 0,
        "tipo_servico": 6,
        "modal": "01",
        "codigo_municipio_envio": "4106902",
        "municipio_envio": "Curitiba",
        "uf_envio": "PR",
        "codigo_municipio_inicio": "4106902",
        "municipio_inicio": "Curitiba",
        "uf_inicio": "PR",
        "codigo_municipio_fim": "4125506",
        "municipio_fim": "Sao Jose dos Pinhais",
        "uf_fim": "PR",
        "cnpj_emitente": cnpj,
        "cnpj_tomador": "11222333000181",
        "nome_tomador": "CT-E EMITIDO EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL",
        "indicador_inscricao_estadual_tomador": "9",
        "descricao_servico": "Fretamento de van para evento",
        "quantidade": "1.0000",
        "valor_total": "480.00",
        "valor_receber": "480.00",
        "icms_situacao_tributaria": "SN",
        "modal_rodoviario": {"taf": "123456789012", "numero_registro_estadual": "12345678901234567890"},
    }
    payload.update(extra)
    return payload


def sample_lote_rps(
    data_emissao: datetime, *, cnpj: str = DEMO_COMPANY.cnpj, notas: int = 2
) -> dict[str, Any]:
    """An RPS batch of ``notas`` services for the demo company (Curitiba)."""
    lista = []
    for i in range(notas):
        lista.append(
            {
                "data_emissao": _stamp(data_emissao),
                "natureza_operacao": 1,
                "servico": {
                    "aliquota": "2.00",
                    "discriminacao": f"Montagem de prateleiras - pedido {1000 + i}",
                    "iss_retido": "false",
                    "item_lista_servico": "0701",
                    "codigo_tributario_municipio": "070100001",
                    "valor_servicos": f"{120 + 30 * i}.00",
                },
                "tomador": {
                    "cnpj": "11222333000181",
                    "razao_social": "Cliente Exemplo Comércio Ltda",
                    "email": "fiscal@example.com",
                    "endereco": {
                        "logradouro": "Rua das Flores",
                        "numero": str(10 + i),
                        "bairro": "Centro",
                        "codigo_municipio": "4106902",
                        "uf": "PR",
                        "cep": "80020000",
                    },
                },
            }
        )
    return {
        "prestador": {"cnpj": cnpj, "inscricao_municipal": "1234567", "codigo_municipio": "4106902"},
        "lista_nfse": lista,
    }
