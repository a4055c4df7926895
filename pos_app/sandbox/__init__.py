"""Embedded Focus NFe-compatible NFC-e API for demo mode and integration tests.

Follows ``../shared/seeds/focus-nfe-nfce.md``; see :mod:`pos_app.sandbox.engine` for the decisions
the seed leaves open and :mod:`pos_app.sandbox.faults` for fault injection.
"""

from pos_app.sandbox.cli import serve
from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.companies import DEMO_COMPANIES, DEMO_COMPANY, DEMO_COMPANY_SP, CompanyConfig
from pos_app.sandbox.faults import FaultMode, Faults, parse_fault_spec
from pos_app.sandbox.samples import sample_payload
from pos_app.sandbox.server import DEMO_TOKEN, SandboxServer

__all__ = [
    "DEMO_COMPANIES",
    "DEMO_COMPANY",
    "DEMO_COMPANY_SP",
    "DEMO_TOKEN",
    "CompanyConfig",
    "FaultMode",
    "Faults",
    "SandboxClock",
    "SandboxServer",
    "parse_fault_spec",
    "sample_payload",
    "serve",
]
