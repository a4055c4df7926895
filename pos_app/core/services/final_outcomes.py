"""Final outcomes of a contingency note that no correction can change, with the manager's explanation.

The states themselves live in :mod:`pos_app.core.fiscal.document_status` (``CONTINGENCIA_DUPLICADA``:
the replay was rejected with SEFAZ 539; ``CONTINGENCIA_DENEGADA``: the replay was answered
``denegado``; a replay answered ``cancelado`` goes to ``CANCELADO``), with their transitions.
"""

from __future__ import annotations

from pos_app.core.fiscal.document_status import DocumentStatus

SEFAZ_DUPLICATE_NUMBER = "539"

LABELS = {
    DocumentStatus.CONTINGENCIA_DUPLICADA: "Contingência: número duplicado (539), sem correção possível",
    DocumentStatus.CONTINGENCIA_DENEGADA: "Contingência: uso denegado pela SEFAZ",
}


def explain_duplicate(numero: object, serie: object, mensagem: str = "") -> str:
    return (
        f"A SEFAZ recusou a nota de contingência nº {numero} série {serie} (539): esse número já pertence a outra "
        "nota autorizada, com outra chave. Isso acontece quando a série de contingência é igual à série online. "
        "Não há correção possível para esta nota e ela não deve ser reenviada. O que fazer: 1) confira "
        "'pos-app doctor' e use uma série de contingência própria (ex.: 600); 2) emita uma nova NFC-e para esta "
        "venda e entregue-a ao cliente; 3) guarde a via impressa desta nota com esta explicação para o contador."
        + (f" Mensagem da SEFAZ: {mensagem}" if mensagem else "")
    )


def explain_denied(numero: object, serie: object, mensagem: str = "") -> str:
    return (
        f"A SEFAZ denegou o uso da nota de contingência nº {numero} série {serie}: há irregularidade fiscal do "
        "emitente (ou do destinatário) no cadastro da SEFAZ. A nota denegada fica registrada e o número não pode "
        "ser reutilizado, cancelado nem reenviado. O que fazer: procure o contador para regularizar a inscrição "
        "estadual; depois emita uma nova NFC-e para a venda se o cliente precisar."
        + (f" Mensagem da SEFAZ: {mensagem}" if mensagem else "")
    )


def explain_cancelled(numero: object, serie: object) -> str:
    return (
        f"A nota de contingência nº {numero} série {serie} consta como CANCELADA na API (cancelada fora deste "
        "terminal, por exemplo pelo painel da Focus). Ela não será reenviada. Se a venda valeu, emita uma nova "
        "NFC-e para ela; se não valeu, registre a devolução no caixa."
    )
