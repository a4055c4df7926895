"""With ``state_path`` the sandbox remembers everything across restarts (demo mode restarts it)."""

from __future__ import annotations

from pathlib import Path

import httpx

from pos_app.sandbox import DEMO_COMPANY, DEMO_TOKEN, SandboxServer, sample_payload


def test_restarted_sandbox_remembers_notes_numbers_files_and_emails(tmp_path: Path) -> None:
    state = str(tmp_path / "sandbox.sqlite")
    with (
        SandboxServer(state_path=state) as server,
        httpx.Client(base_url=server.url, auth=(DEMO_TOKEN, "")) as client,
    ):
        first = client.post("/v2/nfce", params={"ref": "p1"}, json=sample_payload(server.clock.now())).json()
        client.post("/v2/nfce", params={"ref": "p2"}, json=sample_payload(server.clock.now()))
        client.request("DELETE", "/v2/nfce/p2", json={"justificativa": "Cancelada antes do reinicio"})
        client.post("/v2/nfce/p1/email", json={"emails": ["cliente@example.org"]})
        inut = client.post(
            "/v2/nfce/inutilizacao",
            json={
                "cnpj": DEMO_COMPANY.cnpj,
                "serie": 1,
                "numero_inicial": 3,
                "numero_final": 3,
                "justificativa": "Numero pulado por falha",
            },
        ).json()
        port = server.port

    with (
        SandboxServer(state_path=state, port=port) as server,
        httpx.Client(base_url=server.url, auth=(DEMO_TOKEN, "")) as client,
    ):
        assert client.get("/v2/nfce/p1").json() == first
        assert client.get("/v2/nfce/p2").json()["status"] == "cancelado"
        assert client.get(first["caminho_xml_nota_fiscal"]).status_code == 200
        assert client.get(inut["caminho_xml"]).status_code == 200
        assert [e.email for e in server.sent_emails("p1")] == ["cliente@example.org"]
        assert server.inutilizacoes()[0]["status"] == "autorizado"
        again = client.post("/v2/nfce", params={"ref": "p1"}, json=sample_payload(server.clock.now()))
        assert again.json()["codigo"] == "nfe_autorizada"
        nxt = client.post("/v2/nfce", params={"ref": "p3"}, json=sample_payload(server.clock.now())).json()
        assert nxt["numero"] == "4"  # 1, 2 used; 3 voided


def test_in_memory_sandboxes_are_independent() -> None:
    with SandboxServer() as one, SandboxServer() as two:
        assert one.port != two.port
        with httpx.Client(base_url=one.url, auth=(DEMO_TOKEN, "")) as client:
            client.post("/v2/nfce", params={"ref": "a"}, json=sample_payload(one.clock.now()))
        assert one.note("a") is not None
        assert two.note("a") is None
