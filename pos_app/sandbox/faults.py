"""Fault injection for the sandbox: the failures a point of sale must survive, on demand.

Usage (tests and the demo menu)::

    server.faults.set("slow", seconds=2)             # until cleared
    server.faults.once("in_doubt")                    # only the next matching request
    server.faults.set("server_error", code=503, count=2, methods=["POST"])
    server.faults.set("reject_ref", target="0001-00000042-C", status_sefaz="778",
                      mensagem_sefaz="Rejeicao: Informado NCM inexistente [nItem:1]")
    server.faults.clear("slow")                       # or clear() for everything

Every fault affects only the ``/v2/`` API routes, except ``unreachable`` (the listening socket is
closed, so every connection is refused). ``methods`` restricts a request-level fault to some HTTP
methods (e.g. only the emission ``POST``).

Modes and parameters (defaults in brackets):

* ``unreachable``: connections refused (kept-alive ones are cut); ``clear`` reopens the same port.
* ``slow(seconds [3])``: wait before processing; an emission is ``processando_autorizacao`` meanwhile.
* ``in_doubt(seconds [None])``: process (the note IS authorized), then drop the connection without
  answering (``None``) or hold the answer ``seconds``.
* ``sefaz_down(original_authorized [False])``: Focus automatic contingency for online emissions;
  offline replays get ``erro_autorizacao`` 108; cancellation/inutilização answer 108.
* ``rate_storm(n [1])``: the next ``n`` requests answer 429.
* ``server_error(code [500], count [until cleared], processed [False])``: 500 JSON, 502/503/504
  HTML; with ``processed`` the request is handled before the error is returned.
* ``reject_ref(target, status_sefaz ["778"], mensagem_sefaz)``: SEFAZ rejects the emission whose ref
  or numero is ``target`` (several targets may be active).
* ``reset_mid_body``: half the body, then TCP RST. ``trickle(bytes_per_s [64])``: slow body.
  ``truncated_json``: half the JSON with a matching Content-Length. ``html_200``: a captive-portal
  page with 200 (the request is not processed). ``wrong_content_type``: JSON sent as text/plain.
  ``huge_body(mb [5])``: valid JSON padded to ``mb`` megabytes.
* ``tamper(field, value ["null"], http [None])``: the (processed) JSON answer gets ``field`` replaced by
  the JSON ``value`` (e.g. ``field="status", value="100"``; a 43-digit ``chave_nfe``) and, with ``http``,
  that HTTP status: adversarial answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultMode(StrEnum):
    UNREACHABLE = "unreachable"
    SLOW = "slow"
    IN_DOUBT = "in_doubt"
    SEFAZ_DOWN = "sefaz_down"
    RATE_STORM = "rate_storm"
    SERVER_ERROR = "server_error"
    REJECT_REF = "reject_ref"
    RESET_MID_BODY = "reset_mid_body"
    TRICKLE = "trickle"
    TRUNCATED_JSON = "truncated_json"
    HTML_200 = "html_200"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    HUGE_BODY = "huge_body"
    TAMPER = "tamper"


DESCRIPTIONS: dict[FaultMode, str] = {
    FaultMode.UNREACHABLE: "Servidor inacessível (conexões recusadas)",
    FaultMode.SLOW: "Resposta lenta (atraso antes de processar)",
    FaultMode.IN_DOUBT: "Sem resposta: a nota é processada, mas a resposta não chega",
    FaultMode.SEFAZ_DOWN: "SEFAZ fora do ar (contingência automática da Focus)",
    FaultMode.RATE_STORM: "Limite de requisições estourado (HTTP 429)",
    FaultMode.SERVER_ERROR: "Erro interno do servidor (HTTP 5xx)",
    FaultMode.REJECT_REF: "SEFAZ rejeita uma nota escolhida (por referência ou número)",
    FaultMode.RESET_MID_BODY: "Conexão derrubada no meio da resposta",
    FaultMode.TRICKLE: "Resposta gotejando (poucos bytes por segundo)",
    FaultMode.TRUNCATED_JSON: "JSON da resposta truncado",
    FaultMode.HTML_200: "Página HTML com HTTP 200 (proxy/portal cativo)",
    FaultMode.WRONG_CONTENT_TYPE: "Content-Type errado na resposta",
    FaultMode.HUGE_BODY: "Corpo de resposta gigante",
    FaultMode.TAMPER: "Resposta adulterada (um campo do JSON trocado)",
}


@dataclass(frozen=True)
class _Param:
    kind: type
    default: Any = None
    required: bool = False
    nullable: bool = False


# Parameters accepted by each mode; the first one is the "primary" value of a CLI spec ("slow=2").
_PARAMS: dict[FaultMode, dict[str, _Param]] = {
    FaultMode.UNREACHABLE: {},
    FaultMode.SLOW: {"seconds": _Param(float, 3.0)},
    FaultMode.IN_DOUBT: {"seconds": _Param(float, None, nullable=True)},
    FaultMode.SEFAZ_DOWN: {"original_authorized": _Param(bool, False)},
    FaultMode.RATE_STORM: {"n": _Param(int, 1)},
    FaultMode.SERVER_ERROR: {
        "code": _Param(int, 500),
        "count": _Param(int, None, nullable=True),
        "processed": _Param(bool, False),
    },
    FaultMode.REJECT_REF: {
        "target": _Param(str, required=True),
        "status_sefaz": _Param(str, "778"),
        "mensagem_sefaz": _Param(str, "Rejeicao: Informado NCM inexistente [nItem:1]"),
    },
    FaultMode.RESET_MID_BODY: {},
    FaultMode.TRICKLE: {"bytes_per_s": _Param(int, 64)},
    FaultMode.TRUNCATED_JSON: {},
    FaultMode.HTML_200: {},
    FaultMode.WRONG_CONTENT_TYPE: {},
    FaultMode.HUGE_BODY: {"mb": _Param(float, 5.0)},
    FaultMode.TAMPER: {
        "field": _Param(str, required=True),
        "value": _Param(str, "null"),
        "http": _Param(int, None, nullable=True),
    },
}

# Faults that answer instead of the API, in precedence order (the request is not processed).
SHORT_CIRCUIT = (FaultMode.RATE_STORM, FaultMode.SERVER_ERROR, FaultMode.HTML_200)
# Faults that shape how the (processed) answer is delivered.
DELIVERY = (
    FaultMode.IN_DOUBT,
    FaultMode.RESET_MID_BODY,
    FaultMode.TRICKLE,
    FaultMode.TRUNCATED_JSON,
    FaultMode.WRONG_CONTENT_TYPE,
    FaultMode.HUGE_BODY,
    FaultMode.TAMPER,
)


@dataclass
class ActiveFault:
    mode: FaultMode
    params: dict[str, Any]
    remaining: int | None = None  # None: until cleared
    methods: frozenset[str] | None = None

    def matches(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods

    def describe(self) -> str:
        text = DESCRIPTIONS[self.mode]
        shown = {k: v for k, v in self.params.items() if v is not None}
        if shown:
            text += " (" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")"
        if self.remaining is not None:
            text += f" [restam {self.remaining}]"
        if self.methods:
            text += f" [métodos: {', '.join(sorted(self.methods))}]"
        return text


@dataclass
class RequestFaults:
    """Faults that apply to one API request, already consumed from the registry."""

    short_circuit: ActiveFault | None = None
    slow_seconds: float = 0.0
    delivery: dict[FaultMode, ActiveFault] = field(default_factory=dict)

    def has(self, mode: FaultMode) -> bool:
        return mode in self.delivery

    def param(self, mode: FaultMode, name: str) -> Any:
        return self.delivery[mode].params[name]


Listener = Callable[[FaultMode, bool], None]


def _coerce(mode: FaultMode, name: str, spec: _Param, value: Any) -> Any:
    if value is None:
        if spec.nullable:
            return None
        raise ValueError(f"Parâmetro {name!r} da falha {mode} não pode ser vazio")
    if spec.kind is bool:
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("1", "true", "sim", "s", "yes"):
                return True
            if low in ("0", "false", "nao", "não", "n", "no"):
                return False
            raise ValueError(f"Parâmetro {name!r} da falha {mode} deve ser verdadeiro/falso")
        return bool(value)
    try:
        return spec.kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Parâmetro {name!r} da falha {mode} inválido: {value!r}") from exc


def _mode(mode: str | FaultMode) -> FaultMode:
    try:
        return FaultMode(mode)
    except ValueError as exc:
        known = ", ".join(m.value for m in FaultMode)
        raise ValueError(f"Falha desconhecida: {mode!r} (conhecidas: {known})") from exc


def _normalize(mode: str | FaultMode, params: Mapping[str, Any]) -> tuple[FaultMode, dict[str, Any]]:
    fault_mode = _mode(mode)
    specs = _PARAMS[fault_mode]
    unknown = set(params) - set(specs)
    if unknown:
        raise ValueError(f"Parâmetros desconhecidos para {fault_mode}: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in params:
            values[name] = _coerce(fault_mode, name, spec, params[name])
        elif spec.required:
            raise ValueError(f"A falha {fault_mode} exige o parâmetro {name!r}")
        else:
            values[name] = spec.default
    _check_ranges(fault_mode, values)
    return fault_mode, values


def _check_ranges(mode: FaultMode, values: dict[str, Any]) -> None:
    if mode is FaultMode.SERVER_ERROR and values["code"] not in (500, 502, 503, 504):
        raise ValueError("server_error aceita code 500, 502, 503 ou 504")
    if mode is FaultMode.SERVER_ERROR and values["count"] is not None and values["count"] < 1:
        raise ValueError("server_error: count deve ser >= 1")
    if mode is FaultMode.RATE_STORM and values["n"] < 1:
        raise ValueError("rate_storm: n deve ser >= 1")
    if mode is FaultMode.SLOW and values["seconds"] < 0:
        raise ValueError("slow: seconds deve ser >= 0")
    if mode is FaultMode.IN_DOUBT and values["seconds"] is not None and values["seconds"] < 0:
        raise ValueError("in_doubt: seconds deve ser >= 0")
    if mode is FaultMode.TRICKLE and values["bytes_per_s"] < 1:
        raise ValueError("trickle: bytes_per_s deve ser >= 1")
    if mode is FaultMode.HUGE_BODY and values["mb"] <= 0:
        raise ValueError("huge_body: mb deve ser > 0")


class Faults:
    """Registry of active faults. Thread-safe; listeners hear when a mode starts or stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[ActiveFault] = []
        self._listeners: list[Listener] = []

    # -- configuration -------------------------------------------------------------------------

    def set(self, mode: str | FaultMode, *, methods: Iterable[str] | None = None, **params: Any) -> None:
        """Activate ``mode`` until cleared (counted modes: ``rate_storm`` n, ``server_error`` count)."""
        fault_mode, values = _normalize(mode, params)
        remaining: int | None = None
        if fault_mode is FaultMode.RATE_STORM:
            remaining = values["n"]
        elif fault_mode is FaultMode.SERVER_ERROR:
            remaining = values["count"]
        self._add(ActiveFault(fault_mode, values, remaining, _methods(methods)))

    def once(self, mode: str | FaultMode, *, methods: Iterable[str] | None = None, **params: Any) -> None:
        """Activate ``mode`` for the next matching request only (for ``sefaz_down``: the next emission)."""
        fault_mode, values = _normalize(mode, params)
        if fault_mode is FaultMode.UNREACHABLE:
            raise ValueError("A falha unreachable não pode ser usada com once(); use set() e clear()")
        self._add(ActiveFault(fault_mode, values, 1, _methods(methods)))

    def reject_ref(
        self, target: str | int, status_sefaz: str = "778", mensagem_sefaz: str | None = None
    ) -> None:
        """Shortcut: SEFAZ rejects the emission whose ref or numero is ``target`` until cleared."""
        params: dict[str, Any] = {"target": str(target), "status_sefaz": status_sefaz}
        if mensagem_sefaz is not None:
            params["mensagem_sefaz"] = mensagem_sefaz
        self.set(FaultMode.REJECT_REF, **params)

    def clear(self, mode: str | FaultMode | None = None) -> None:
        """Deactivate one mode (every target of ``reject_ref``) or, without argument, everything."""
        target_mode = None if mode is None else _mode(mode)
        with self._lock:
            removed = [f for f in self._active if target_mode is None or f.mode is target_mode]
            self._active = [f for f in self._active if f not in removed]
            still = {f.mode for f in self._active}
        for gone in {f.mode for f in removed} - still:
            self._notify(gone, False)

    def subscribe(self, listener: Listener) -> None:
        """``listener(mode, active)`` is called (outside the lock) whenever a mode starts or stops."""
        with self._lock:
            self._listeners.append(listener)

    # -- inspection ----------------------------------------------------------------------------

    def active(self) -> list[ActiveFault]:
        with self._lock:
            return [ActiveFault(f.mode, dict(f.params), f.remaining, f.methods) for f in self._active]

    def is_active(self, mode: str | FaultMode) -> bool:
        fault_mode = _mode(mode)
        with self._lock:
            return any(f.mode is fault_mode for f in self._active)

    def describe(self) -> list[str]:
        """Portuguese one-line description of each active fault (for the demo menu)."""
        return [f.describe() for f in self.active()]

    # -- consumption by the server -------------------------------------------------------------

    def take_for_request(self, method: str) -> RequestFaults:
        """Consume the request-level faults that apply to one ``/v2/`` request."""
        result = RequestFaults()
        expired: list[FaultMode] = []
        with self._lock:
            for mode in SHORT_CIRCUIT:
                fault = self._first(mode, method)
                if fault is not None:
                    result.short_circuit = fault
                    self._consume(fault, expired)
                    break
            else:
                slow = self._first(FaultMode.SLOW, method)
                if slow is not None:
                    result.slow_seconds = float(slow.params["seconds"])
                    self._consume(slow, expired)
                for mode in DELIVERY:
                    fault = self._first(mode, method)
                    if fault is not None:
                        result.delivery[mode] = fault
                        self._consume(fault, expired)
        self._notify_expired(expired)
        return result

    def take_sefaz_down(self) -> ActiveFault | None:
        """Called once per emission reaching "SEFAZ": is SEFAZ down for it?"""
        expired: list[FaultMode] = []
        with self._lock:
            fault = self._first(FaultMode.SEFAZ_DOWN, None)
            if fault is not None:
                self._consume(fault, expired)
        self._notify_expired(expired)
        return fault

    def sefaz_down(self) -> bool:
        """Non-consuming check (cancellation, inutilização, effectivation)."""
        return self.is_active(FaultMode.SEFAZ_DOWN)

    def take_rejection(self, ref: str, numero: int) -> ActiveFault | None:
        """The ``reject_ref`` fault matching this emission (by ref or by numero), if any."""
        expired: list[FaultMode] = []
        with self._lock:
            found = None
            for fault in self._active:
                if fault.mode is FaultMode.REJECT_REF and fault.params["target"] in (ref, str(numero)):
                    found = fault
                    self._consume(fault, expired)
                    break
        self._notify_expired(expired)
        return found

    # -- internals -----------------------------------------------------------------------------

    def _add(self, fault: ActiveFault) -> None:
        with self._lock:
            was_active = any(f.mode is fault.mode for f in self._active)
            if fault.mode is FaultMode.REJECT_REF:
                self._active = [
                    f
                    for f in self._active
                    if not (f.mode is FaultMode.REJECT_REF and f.params["target"] == fault.params["target"])
                ]
            else:
                self._active = [f for f in self._active if f.mode is not fault.mode]
            self._active.append(fault)
        if not was_active:
            self._notify(fault.mode, True)

    def _first(self, mode: FaultMode, method: str | None) -> ActiveFault | None:
        for fault in self._active:
            if fault.mode is mode and (method is None or fault.matches(method)):
                return fault
        return None

    def _consume(self, fault: ActiveFault, expired: list[FaultMode]) -> None:
        if fault.remaining is None:
            return
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._active.remove(fault)
            if not any(f.mode is fault.mode for f in self._active):
                expired.append(fault.mode)

    def _notify_expired(self, expired: list[FaultMode]) -> None:
        for mode in expired:
            self._notify(mode, False)

    def _notify(self, mode: FaultMode, active: bool) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(mode, active)


def _methods(methods: Iterable[str] | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = [methods]
    return frozenset(m.upper() for m in methods)


def parse_fault_spec(spec: str) -> tuple[FaultMode, dict[str, Any]]:
    """Parse a CLI spec: ``modo[=valor][,param=valor...]``.

    The bare value goes to the mode's first parameter: ``slow=2``, ``server_error=503,count=2``,
    ``rate_storm=5``, ``reject_ref=123,status_sefaz=778``, ``huge_body=10``, ``in_doubt``.
    """
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise ValueError("Especificação de falha vazia")
    head = parts[0]
    name, _, primary = head.partition("=")
    fault_mode = _mode(name.strip())
    params: dict[str, Any] = {}
    if primary:
        specs = list(_PARAMS[fault_mode])
        if not specs:
            raise ValueError(f"A falha {fault_mode} não aceita valor")
        params[specs[0]] = primary.strip()
    for extra in parts[1:]:
        key, sep, value = extra.partition("=")
        if not sep:
            raise ValueError(f"Parâmetro sem valor na falha {fault_mode}: {extra!r}")
        params[key.strip()] = value.strip()
    _normalize(fault_mode, params)  # validate now, so a bad CLI spec fails early
    return fault_mode, params
