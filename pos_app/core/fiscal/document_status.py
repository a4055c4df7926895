"""States of a fiscal document (NFC-e attempt or contingency note), their groups and transitions.

The one home of the ``fiscal_documents.status`` vocabulary: every module compares against
``DocumentStatus`` members and the named groups below, never against string literals. The stored
values are the enum values (a ``StrEnum`` compares and binds to SQL as its string), so no data
migration was needed when the strings became an enum.

Online attempt (``kind='online'``)::

    pendente -> enviando -> autorizado | erro_autorizacao | rejeitado | denegado | cancelado
                         -> em_duvida (no answer; a contingency note replaced it) -> encerrado | cancelado
                                                                                  | substituicao_pendente
                         -> encerrado (never delivered; a contingency note replaced it)
                         -> aguardando_conexao (SP: no offline contingency; sent again later)
    erro_autorizacao | rejeitado | aguardando_conexao -> enviando (resend with the same ref)
    enviando | pendente | aguardando_conexao -> status_desconhecido (issue 18: the API's status is
        unknown or ill-typed even after a consult; never resent, a person looks)
    status_desconhecido -> autorizado | cancelado | denegado | erro_autorizacao | em_duvida
        (whatever a later consult, on every sync, shows)

Contingency note (``kind='contingencia'``)::

    contingencia_pendente -> transmitindo -> autorizado | contingencia_erro | contingencia_pendente
    contingencia_erro -> contingencia_pendente (corrected or resent)

NF-e model 55 (asynchronous at Focus): ``enviando -> processando`` (SEFAZ still working after the
cashier's wait) ``-> autorizado | erro_autorizacao | denegado``, consulted by the replay pass.

``autorizado -> cancelado`` for both kinds. A transition to the same state records an event
(a manual consult, a scheduled cancel, "still processing") without changing the state.

The Focus API answers with its own vocabulary (``FocusStatus``); a document state is a decision
this program took from that answer, so the two are kept apart even where the words coincide.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentStatus(StrEnum):
    PENDENTE = "pendente"
    ENVIANDO = "enviando"
    AUTORIZADO = "autorizado"
    ERRO_AUTORIZACAO = "erro_autorizacao"
    REJEITADO = "rejeitado"
    DENEGADO = "denegado"
    EM_DUVIDA = "em_duvida"
    ENCERRADO = "encerrado"
    CANCELADO = "cancelado"
    AGUARDANDO_CONEXAO = "aguardando_conexao"
    SUBSTITUICAO_PENDENTE = "substituicao_pendente"
    CONTINGENCIA_PENDENTE = "contingencia_pendente"
    TRANSMITINDO = "transmitindo"
    CONTINGENCIA_ERRO = "contingencia_erro"
    # Final contingency outcomes no correction can change (issue 12): the replay was rejected with
    # SEFAZ 539 (number already used with another key), or its use was denied by the SEFAZ.
    CONTINGENCIA_DUPLICADA = "contingencia_duplicada"
    CONTINGENCIA_DENEGADA = "contingencia_denegada"
    # NF-e model 55 (asynchronous at Focus): accepted by the API, SEFAZ still processing after the
    # cashier's wait; the replay pass consults it until it is final.
    PROCESSANDO = "processando"
    STATUS_DESCONHECIDO = "status_desconhecido"


class FocusStatus(StrEnum):
    """``status`` of a Focus NFe answer for an NFC-e (API vocabulary, not our document state)."""

    PROCESSANDO_AUTORIZACAO = "processando_autorizacao"
    AUTORIZADO = "autorizado"
    ERRO_AUTORIZACAO = "erro_autorizacao"
    DENEGADO = "denegado"
    CANCELADO = "cancelado"
    ERRO_CANCELAMENTO = "erro_cancelamento"  # answer to a cancel request: the note stays authorized


class CancelIntentStatus(StrEnum):
    """A cancel a manager asked for while the contingency note was not yet authorized."""

    PENDENTE = "pendente"
    EXECUTADO = "executado"
    FALHOU = "falhou"


class PendingActionStatus(StrEnum):
    """A manager action written ahead of its API request (``pending_actions.status``, issue 18);
    not a document state: pendente -> concluido | nao_efetivado | manual; manual -> concluido | nao_efetivado."""

    PENDENTE = "pendente"
    CONCLUIDO = "concluido"
    NAO_EFETIVADO = "nao_efetivado"
    MANUAL = "manual"


class InutilizacaoStatus(StrEnum):
    """Result of a number-range voiding (``inutilizacoes.status``; the API's words)."""

    AUTORIZADO = "autorizado"
    REJEITADO = "rejeitado"


class CteStatus(StrEnum):
    """Local states of an issued CT-e / CT-e OS (``ctes_emitidos.status``). Where Focus has a word
    for the state (processando_autorizacao, autorizado, erro_autorizacao, denegado, cancelado) the
    local state is that word, so the API's CT-e answers compare against these members directly."""

    PENDENTE = "pendente"
    ENVIANDO = "enviando"
    PROCESSANDO_AUTORIZACAO = "processando_autorizacao"
    AUTORIZADO = "autorizado"
    ERRO_AUTORIZACAO = "erro_autorizacao"
    REJEITADO = "rejeitado"
    DENEGADO = "denegado"
    EM_DUVIDA = "em_duvida"
    CANCELADO = "cancelado"


CTE_RESENDABLE: frozenset[CteStatus] = frozenset(
    {CteStatus.PENDENTE, CteStatus.ERRO_AUTORIZACAO, CteStatus.REJEITADO}
)
CTE_IN_FLIGHT: frozenset[CteStatus] = frozenset(
    {CteStatus.ENVIANDO, CteStatus.PROCESSANDO_AUTORIZACAO, CteStatus.EM_DUVIDA}
)


class CteSituacao(StrEnum):
    """SEFAZ situation of a received CT-e (``ctes_recebidas``: API vocabulary)."""

    AUTORIZADO = "autorizado"
    CANCELADO = "cancelado"
    DENEGADO = "denegado"


class LoteRpsStatus(StrEnum):
    """Local states of an NFS-e RPS batch (``lotes_rps.status``)."""

    PENDENTE = "pendente"
    ENVIANDO = "enviando"
    GERADO = "gerado"
    REJEITADO = "rejeitado"
    EM_DUVIDA = "em_duvida"
    PROCESSADO = "processado"
    COM_ERROS = "com_erros"
    PARCIAL = "parcial"


class RpsAnswerStatus(StrEnum):
    """Status of one RPS in the city's answer file (API vocabulary)."""

    AUTORIZADO = "autorizado"
    ERRO_AUTORIZACAO = "erro_autorizacao"


S = DocumentStatus

# Nothing more happens to the document by itself (``autorizado`` can still be cancelled by a manager).
FINAL: frozenset[DocumentStatus] = frozenset(
    {S.AUTORIZADO, S.CANCELADO, S.DENEGADO, S.ENCERRADO, S.CONTINGENCIA_DUPLICADA, S.CONTINGENCIA_DENEGADA}
)

# Contingency notes that ended for good without authorization (no correction, no resend).
CONTINGENCY_FINAL: frozenset[DocumentStatus] = frozenset({S.CONTINGENCIA_DUPLICADA, S.CONTINGENCIA_DENEGADA})

# Contingency notes waiting for the automatic transmission (the replay's backlog of notes).
CONTINGENCY_QUEUE: frozenset[DocumentStatus] = frozenset({S.CONTINGENCIA_PENDENTE, S.TRANSMITINDO})

# Contingency notes issued (printed, legally valid for 24 h) and not yet authorized: the queue plus
# the ones rejected at transmission that need a correction.
CONTINGENCY_OPEN: frozenset[DocumentStatus] = CONTINGENCY_QUEUE | {S.CONTINGENCIA_ERRO}

# A contingency note can be rebuilt from the catalog in these states.
CORRECTABLE: frozenset[DocumentStatus] = frozenset({S.CONTINGENCIA_PENDENTE, S.CONTINGENCIA_ERRO})

# A request may be in flight (after a crash: consult the ref before anything else).
IN_FLIGHT: frozenset[DocumentStatus] = frozenset({S.ENVIANDO, S.TRANSMITINDO})

# An online attempt that may be sent (again) with the same ref.
RESENDABLE: frozenset[DocumentStatus] = frozenset(
    {S.PENDENTE, S.AGUARDANDO_CONEXAO, S.ERRO_AUTORIZACAO, S.REJEITADO}
)

# The sale has no issued NFC-e yet (the cash session cannot close over these).
EMISSION_PENDING: frozenset[DocumentStatus] = frozenset(
    {S.PENDENTE, S.ENVIANDO, S.AGUARDANDO_CONEXAO, S.EM_DUVIDA, S.PROCESSANDO, S.STATUS_DESCONHECIDO}
)

# A DANFCe of the document is a valid receipt.
PRINTABLE: frozenset[DocumentStatus] = frozenset({S.AUTORIZADO}) | CONTINGENCY_OPEN

# The sale's current document (the latest attempt that counts for the sale): attempts superseded
# by a contingency note or refused by the API before authorization are not it.
NOT_CURRENT: frozenset[DocumentStatus] = frozenset(
    {
        S.ENCERRADO,
        S.EM_DUVIDA,
        S.PENDENTE,
        S.ENVIANDO,
        S.REJEITADO,
        S.ERRO_AUTORIZACAO,
        S.PROCESSANDO,
        S.STATUS_DESCONHECIDO,
    }
)

# The API keeps an XML of the document (authorization and, for a cancelled one, the event).
HAS_API_XML: frozenset[DocumentStatus] = frozenset({S.AUTORIZADO, S.CANCELADO})

# Monthly XML archive (for the accountant).
ARCHIVED: frozenset[DocumentStatus] = frozenset({S.AUTORIZADO, S.CANCELADO, S.DENEGADO})

# A manager has to look at these (substitution cancel, or reconciliation still undecided).
MANAGER_ATTENTION: frozenset[DocumentStatus] = frozenset(
    {S.SUBSTITUICAO_PENDENTE, S.EM_DUVIDA, S.STATUS_DESCONHECIDO}
)

# The API's status of the note is unknown (issue 18): never resent; consulted on every sync and
# shown by ``status``/``doctor`` until a consult settles it.
UNKNOWN: frozenset[DocumentStatus] = frozenset({S.STATUS_DESCONHECIDO})

# Background sync has work while a document is in one of these states.
BACKLOG: frozenset[DocumentStatus] = frozenset(
    {
        S.CONTINGENCIA_PENDENTE,
        S.TRANSMITINDO,
        S.PENDENTE,
        S.ENVIANDO,
        S.AGUARDANDO_CONEXAO,
        S.EM_DUVIDA,
        S.PROCESSANDO,
        S.STATUS_DESCONHECIDO,
    }
)


class HistoryGroup(StrEnum):
    """Filter groups of the history (``pos-app historico --status``, history window)."""

    AUTORIZADO = "autorizado"
    CONTINGENCIA = "contingencia"
    CORRECAO = "correcao"
    CANCELADO = "cancelado"


HISTORY_GROUPS: dict[HistoryGroup, tuple[DocumentStatus, ...]] = {
    HistoryGroup.AUTORIZADO: (S.AUTORIZADO,),
    HistoryGroup.CONTINGENCIA: (
        S.CONTINGENCIA_PENDENTE,
        S.TRANSMITINDO,
        S.AGUARDANDO_CONEXAO,
        S.PENDENTE,
        S.ENVIANDO,
        S.PROCESSANDO,
    ),
    HistoryGroup.CORRECAO: (
        S.CONTINGENCIA_ERRO,
        S.ERRO_AUTORIZACAO,
        S.REJEITADO,
        S.DENEGADO,
        S.SUBSTITUICAO_PENDENTE,
        S.STATUS_DESCONHECIDO,
    ),
    HistoryGroup.CANCELADO: (S.CANCELADO,),
}

# Allowed transitions (from -> to). ``None`` is the creation of the row.
TRANSITIONS: dict[DocumentStatus | None, frozenset[DocumentStatus]] = {
    None: frozenset({S.PENDENTE, S.CONTINGENCIA_PENDENTE}),
    S.PENDENTE: frozenset(
        {S.ENVIANDO, S.AGUARDANDO_CONEXAO, S.EM_DUVIDA, S.ENCERRADO, S.STATUS_DESCONHECIDO}
    ),
    S.ENVIANDO: frozenset(
        {
            S.AUTORIZADO,
            S.ERRO_AUTORIZACAO,
            S.REJEITADO,
            S.DENEGADO,
            S.CANCELADO,
            S.EM_DUVIDA,
            S.ENCERRADO,
            S.AGUARDANDO_CONEXAO,
            S.PENDENTE,
            S.PROCESSANDO,
            S.STATUS_DESCONHECIDO,
        }
    ),
    # EM_DUVIDA: an NF-e whose processing ends in "SEFAZ out of service" (or an answer that does not
    # match) is generated in contingency and the attempt reconciled
    S.PROCESSANDO: frozenset(
        {S.AUTORIZADO, S.ERRO_AUTORIZACAO, S.DENEGADO, S.AGUARDANDO_CONEXAO, S.EM_DUVIDA}
    ),
    S.AGUARDANDO_CONEXAO: frozenset({S.ENVIANDO, S.EM_DUVIDA, S.ENCERRADO, S.STATUS_DESCONHECIDO}),
    S.STATUS_DESCONHECIDO: frozenset(
        {S.AUTORIZADO, S.CANCELADO, S.DENEGADO, S.ERRO_AUTORIZACAO, S.EM_DUVIDA}
    ),
    S.ERRO_AUTORIZACAO: frozenset({S.ENVIANDO, S.AGUARDANDO_CONEXAO, S.EM_DUVIDA, S.ENCERRADO}),
    S.REJEITADO: frozenset({S.ENVIANDO, S.AGUARDANDO_CONEXAO, S.EM_DUVIDA, S.ENCERRADO}),
    S.EM_DUVIDA: frozenset({S.ENCERRADO, S.SUBSTITUICAO_PENDENTE}),
    S.SUBSTITUICAO_PENDENTE: frozenset(),
    S.AUTORIZADO: frozenset(),
    S.DENEGADO: frozenset(),
    S.ENCERRADO: frozenset(),
    S.CANCELADO: frozenset(),
    S.CONTINGENCIA_PENDENTE: frozenset({S.TRANSMITINDO}),
    S.TRANSMITINDO: frozenset(
        {
            S.AUTORIZADO,
            S.CONTINGENCIA_PENDENTE,
            S.CONTINGENCIA_ERRO,
            S.CONTINGENCIA_DUPLICADA,
            S.CONTINGENCIA_DENEGADA,
            S.CANCELADO,
        }
    ),
    S.CONTINGENCIA_ERRO: frozenset({S.CONTINGENCIA_PENDENTE, S.CONTINGENCIA_DUPLICADA}),
    S.CONTINGENCIA_DUPLICADA: frozenset(),
    S.CONTINGENCIA_DENEGADA: frozenset(),
}
# The API is the truth about a cancellation (a manual consult, a reconciliation, a cancel request):
# any document it may know can become ``cancelado`` — except a denied one, which cannot be cancelled.
for _state in DocumentStatus:
    if _state not in (S.CANCELADO, S.DENEGADO, S.CONTINGENCIA_DENEGADA, S.CONTINGENCIA_DUPLICADA):
        TRANSITIONS[_state] = TRANSITIONS[_state] | {S.CANCELADO}
del _state


def can_transition(from_status: str | None, to_status: str) -> bool:
    """Whether ``from_status -> to_status`` is allowed (the same state always is: an event)."""
    try:
        to = DocumentStatus(to_status)
        frm = None if from_status is None else DocumentStatus(from_status)
    except ValueError:
        return False
    return frm == to or to in TRANSITIONS[frm]


class EconfStatus(StrEnum):
    """State of one ECONF (Conciliação Financeira) event of a note (``econf_events.status``); not a
    document state. ``avaliar``: queued when the note became authorized, the state rule not yet read;
    ``pendente``: payload built, waiting for the background pass (or its back-off); ``enviando``:
    written ahead, the POST may have left; ``registrado``: SEFAZ 135; ``rejeitado``: SEFAZ or the API
    refused it (message kept, never retried by itself); ``em_duvida``: no answer and no documented way
    to find the protocol: a manager checks the Focus panel; ``cancelando``: cancel written ahead;
    ``cancelado``: the cancellation was registered."""

    AVALIAR = "avaliar"
    PENDENTE = "pendente"
    ENVIANDO = "enviando"
    REGISTRADO = "registrado"
    REJEITADO = "rejeitado"
    EM_DUVIDA = "em_duvida"
    CANCELANDO = "cancelando"
    CANCELADO = "cancelado"


_E = EconfStatus
ECONF_TRANSITIONS: dict[EconfStatus, frozenset[EconfStatus]] = {
    _E.AVALIAR: frozenset({_E.PENDENTE}),
    _E.PENDENTE: frozenset({_E.ENVIANDO, _E.REJEITADO}),
    _E.ENVIANDO: frozenset({_E.REGISTRADO, _E.REJEITADO, _E.EM_DUVIDA, _E.PENDENTE}),
    _E.EM_DUVIDA: frozenset({_E.PENDENTE, _E.REGISTRADO}),  # "enviar mesmo assim" / "marcar como registrado"
    _E.REJEITADO: frozenset({_E.PENDENTE}),  # the manager sends it again
    _E.REGISTRADO: frozenset({_E.CANCELANDO}),
    _E.CANCELANDO: frozenset({_E.CANCELADO, _E.REGISTRADO}),
    _E.CANCELADO: frozenset(),
}
ECONF_OPEN = frozenset({_E.AVALIAR, _E.PENDENTE, _E.ENVIANDO, _E.CANCELANDO})
ECONF_NEEDS_MANAGER = frozenset({_E.EM_DUVIDA, _E.REJEITADO})
ECONF_LABELS: dict[str, str] = {
    _E.AVALIAR: "a avaliar",
    _E.PENDENTE: "aguardando envio",
    _E.ENVIANDO: "enviando (sem resposta)",
    _E.REGISTRADO: "registrado",
    _E.REJEITADO: "rejeitado",
    _E.EM_DUVIDA: "em dúvida",
    _E.CANCELANDO: "cancelando (sem resposta)",
    _E.CANCELADO: "cancelado",
}


def econf_can_transition(from_status: str, to_status: str) -> bool:
    try:
        return (
            EconfStatus(from_status) == EconfStatus(to_status)
            or EconfStatus(to_status) in ECONF_TRANSITIONS[EconfStatus(from_status)]
        )
    except ValueError:
        return False
