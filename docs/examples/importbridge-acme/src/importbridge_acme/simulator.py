"""A loopback Acme for tests and demos, built only on ``importbridge.sandbox``.

Loads finish on the sandbox's virtual clock; a record whose ``email`` has no ``@`` is
rejected (line = its 1-based position). Rejections come inline in the status when there are at
most ``INLINE`` of them, else from ``/rejections`` in pages of ``PAGE``. An
``Idempotency-Key`` seen before answers with the first load.
"""

from __future__ import annotations

from typing import Any

from importbridge.sandbox import HttpError, Request, Response, Router, Simulator, SimulatorContext

INLINE, PAGE = 3, 2


class AcmeSimulator(Simulator):
    base_path = "/api"

    def __init__(self, context: SimulatorContext) -> None:
        self.key = context.secrets["api_key"]
        self.loads: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        super().__init__(context)

    def routes(self, router: Router) -> None:
        router.add("POST", "/api/v2/loads", self.create)
        router.add("GET", "/api/v2/loads", self.find)
        router.add("GET", "/api/v2/loads/{load_id}", self.status)
        router.add("GET", "/api/v2/loads/{load_id}/rejections", self.rejections)

    def authenticate(self, request: Request) -> None:
        if request.header("authorization") != f"Bearer {self.key}":
            raise HttpError(401, "unknown token", kind="unauthenticated")

    def error(self, error: HttpError) -> Response:
        return Response.json(
            error.status, {"error": {"code": error.kind, "message": error.message}}, headers=error.headers
        )

    def create(self, request: Request) -> Response:
        body = request.json()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise HttpError(400, "records must be an array", kind="invalid_body")
        key = request.header("idempotency-key") or self.context.new_uuid()
        if key in self.by_key:
            return Response.json(200, self._status(self.by_key[key]))
        load_id = "ld_" + self.context.new_hex(8)
        rejected = [
            {"line": line, "code": "invalid_email", "reason": "no @ in email", "record": record}
            for line, record in enumerate(records, start=1)
            if "@" not in str(record.get("email", "")) if isinstance(record, dict)
        ]
        self.loads[load_id] = {
            "timeline": self.context.timeline(len(records)), "rejected": rejected, "key": key,
        }  # fmt: skip
        self.by_key[key] = load_id
        return Response.json(201, self._status(load_id))

    def _load(self, request: Request) -> str:
        load_id = request.params["load_id"]
        if load_id not in self.loads:
            raise HttpError(404, f"no load {load_id}", kind="not_found")
        return load_id

    def _status(self, load_id: str) -> dict[str, Any]:
        load = self.loads[load_id]
        timeline, rejected = load["timeline"], load["rejected"]
        now = self.context.clock.now()
        done = timeline.processed(now)
        total = timeline.total
        finished = done >= total
        failed = len(rejected) if finished else sum(1 for entry in rejected if entry["line"] <= done)
        status: dict[str, Any] = {
            "id": load_id,
            "phase": ("DONE_WITH_ERRORS" if rejected else "DONE") if finished else
                     ("LOADING" if done else "QUEUED"),
            "rows": {"total": total, "accepted": done - failed, "rejected": failed},
            "percent": 100 * done / total if total else 100,
        }  # fmt: skip
        if finished and len(rejected) <= INLINE:
            status["rejections"] = rejected
        return {"load": status}

    def status(self, request: Request) -> Response:
        return Response.json(200, self._status(self._load(request)))

    def rejections(self, request: Request) -> Response:
        load_id = self._load(request)
        try:
            page = int(request.query.get("page", "1"))
        except ValueError:
            raise HttpError(400, "page must be a number", kind="invalid_page") from None
        rejected = self.loads[load_id]["rejected"]
        chunk = rejected[(page - 1) * PAGE : page * PAGE]
        more = page * PAGE < len(rejected)
        return Response.json(200, {"rejections": chunk, "next_page": page + 1 if more else None})

    def find(self, request: Request) -> Response:
        load_id = self.by_key.get(request.query.get("request_id", ""))
        return Response.json(200, {"loads": [self._status(load_id)["load"]] if load_id else []})

    def state(self) -> dict[str, Any]:
        return {**super().state(), "imports": len(self.loads)}


def build_simulator(context: SimulatorContext) -> AcmeSimulator:
    return AcmeSimulator(context)
