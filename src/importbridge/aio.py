"""``importbridge.aio``: the asyncio client (the ``async`` extra: aiohttp).

    async with importbridge.aio.connect("micro") as client:      # or: client = await ...connect(...)
        job = await client.submit(rows)
        job = await client.wait(job)
        async for row in client.failed_rows(job):
            ...

A provider written with flows (``importbridge.flows``) runs on the asyncio engine
(``importbridge.aioengine``): no thread, nothing blocks the event loop. A provider that still
implements the older ``submit(conn, ...)`` / ``get`` / ``failed_rows`` calling
``conn.transport`` runs unchanged in a worker thread (``asyncio.to_thread``): it works, but is
the slower path (one thread per request in flight). Waiting is the sync face's logic
(``importbridge.aiowaiting``); ``submit_many`` runs the sync client's (a file journal) in a
worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import aioengine, aiowaiting
from .client import ImportClient, _rows
from .errors import ConfigurationError, JobNotFound
from .flows import OPERATIONS, FlowContext, has_flows
from .model import ImportJob
from .plugins import get_provider
from .polling import make_token
from .provider import Capability, Provider
from .settings import resolve
from .tokens import TokenKey, admit, connection_settings, decode, looks_like_token, resolve_key
from .transport import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Connection, RetryPolicy, Transport

if TYPE_CHECKING:
    from .model import RowResult
    from .polling import OnUpdate, PollStep
    from .schedule import PollPolicy

__all__ = ["AsyncImportClient", "connect", "resume", "wait_all"]

# imported here, with importbridge.aio, not by the first connect(): an import inside the event
# loop would hold it for as long as aiohttp takes to load (tens of milliseconds)
with contextlib.suppress(ImportError):  # without the extra, connect() says which one to install
    import aiohttp  # noqa: F401

class AsyncImportClient:
    """Talks to one provider account from an event loop. Share one client across tasks."""

    def __init__(
        self,
        connection: Connection,
        transport: aioengine.AsyncTransport,
        *,
        token_key: TokenKey | None = None,
    ) -> None:
        self.connection = connection
        self.provider: Provider = connection.provider
        self.transport = transport
        self.token_key = token_key  # signs this client's resume tokens, and checks those it reads
        self.context = FlowContext(provider=self.provider.name, settings=connection.settings)
        # the older methods' path, and submit_many's
        self._sync = ImportClient(connection, token_key=token_key)

    def __repr__(self) -> str:
        return f"<AsyncImportClient {self.provider.name} {self.connection.settings!r}>"

    async def _call(self, operation: str, *args: Any) -> Any:
        """The provider's ``operation``: its flow on the asyncio engine, else in a worker thread."""
        if has_flows(self.provider, operation):
            flow = getattr(self.provider, OPERATIONS[operation])(self.context, *args)
            return await aioengine.run(self.transport, flow)
        return await asyncio.to_thread(getattr(self.provider, operation), self.connection, *args)

    # -- one import ---------------------------------------------------------------------------

    async def submit(self, records: Iterable[Mapping[str, Any]], **options: Any) -> ImportJob:
        """Send ``records`` as one import; returns its first snapshot."""
        return await self._call("submit", _rows(records), options)  # type: ignore[no-any-return]

    async def get(self, job_id: str, **context: str) -> ImportJob:
        """The job's current snapshot (a 404 past the retention is ``JobExpired``, as in sync)."""
        try:
            return await self._call("get", str(job_id), context)  # type: ignore[no-any-return]
        except JobNotFound as error:
            raise self._sync._expired(error, context.get("created_at"), context.get("expires_at")) from None

    async def failed_rows(self, job: ImportJob | str) -> AsyncIterator[RowResult]:
        """Every rejected row of ``job`` (a job or a job id), as the provider serves them."""
        snapshot = await self.get(job) if isinstance(job, str) else job
        try:
            if has_flows(self.provider, "failed_rows"):
                flow = self.provider.failed_rows_flow(self.context, snapshot)
                async for row in aioengine.stream(self.transport, flow):
                    yield row
                return
            rows = iter(await asyncio.to_thread(self.provider.failed_rows, self.connection, snapshot))
            end = object()
            while (row := await asyncio.to_thread(next, rows, end)) is not end:
                yield row
        except JobNotFound as error:
            raise self._sync._expired(error, snapshot.created_at, snapshot.expires_at) from None

    async def submit_many(self, records: Iterable[Mapping[str, Any]], **options: Any) -> list[ImportJob]:
        """``ImportClient.submit_many`` (batches, checkpoint journal, request ids), in a worker
        thread: its journal is file I/O, each batch goes through the sync engine, and
        ``on_submit`` is called in that thread."""
        return await asyncio.to_thread(self._sync.submit_many, records, **options)

    # -- waiting (importbridge.aiowaiting) ----------------------------------------------------

    async def wait(
        self,
        item: ImportJob | str,
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        policy: PollPolicy | None = None,
    ) -> ImportJob:
        """Poll ``item`` (a job, a job id or a resume token) until it is terminal."""
        return await aiowaiting.wait(self, item, timeout=timeout, on_update=on_update, policy=policy)

    resume = wait  # a resume token is one of the items wait takes

    def poll(
        self, item: ImportJob | str, *, timeout: float | None = None, policy: PollPolicy | None = None
    ) -> aiowaiting.AsyncPoller:
        """Each new snapshot of ``item`` until it is terminal (``async for``)."""
        return aiowaiting.poll(self, item, timeout=timeout, policy=policy)

    async def poll_once(self, token: str, *, policy: PollPolicy | None = None) -> PollStep:
        """One poll of the job a token names (see ``importbridge.polling.poll_once``)."""
        return await aiowaiting.poll_once(self, token, policy=policy)

    def token(self, job: ImportJob) -> str:
        """A resume token for ``job``, free of secrets (the same token the sync client makes)."""
        return make_token(self, job)  # type: ignore[arg-type]

    def wait_all(self, items: Iterable[ImportJob | str], **options: Any) -> AsyncIterator[ImportJob]:
        """``importbridge.aio.wait_all`` with this client first (and any ``clients=`` given)."""
        clients = [self, *options.pop("clients", ())]
        return wait_all(items, clients=clients, **options)

    # -- lifetime -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Release the pooled connections (both engines')."""
        await self.transport.close()
        self.connection.transport.close()

    async def __aenter__(self) -> AsyncImportClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class _Connecting:
    """What ``connect`` returns: ``await`` it for a client, or ``async with`` it (closed after)."""

    def __init__(self, make: Callable[[], AsyncImportClient]) -> None:
        self._make = make
        self._client: AsyncImportClient | None = None

    def __await__(self) -> Generator[Any, None, AsyncImportClient]:
        if False:  # pragma: no cover  (a generator: nothing to wait for, the client is made at once)
            yield
        return self._make()

    async def __aenter__(self) -> AsyncImportClient:
        self._client = self._make()
        return self._client

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.close()


def connect(
    provider: str | Provider,
    *,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    pool_size: int = 100,
    token_key: TokenKey | str | bytes | None = None,
    **settings: str | None,
) -> _Connecting:
    """An async client for ``provider``: ``await connect(...)`` or ``async with connect(...)``.

    Settings resolve as for ``importbridge.connect`` (keyword, else env var, else default);
    ``pool_size`` bounds the connections kept open to the provider; ``token_key`` (else
    ``IMPORTBRIDGE_TOKEN_KEY``) signs and checks resume tokens, as for ``importbridge.connect``.
    """

    def make() -> AsyncImportClient:
        adapter = get_provider(provider)
        if Capability.CLIENT not in adapter.capabilities:
            raise ConfigurationError(f"provider {adapter.name!r} cannot submit or fetch imports (no client)")
        resolved = resolve(adapter, settings)
        options: dict[str, Any] = {
            "timeout": timeout,
            "retry": retry,
            "max_response_bytes": max_response_bytes,
        }
        engine = aioengine.AsyncTransport(adapter, resolved, pool_size=pool_size, **options)
        return AsyncImportClient(
            Connection(adapter, resolved, Transport(adapter, resolved, **options)),
            engine,
            token_key=resolve_key(token_key),
        )

    return _Connecting(make)


async def resume(
    token: str,
    /,
    *,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
    token_key: TokenKey | str | bytes | None = None,
    **settings: Any,
) -> ImportJob:
    """Finish a wait from its token in any process (see ``importbridge.resume``): connect from
    the environment, the token's declared context and ``settings``, and wait. The base URL and
    credentials never come from the token; one made for another origin is refused."""
    key = resolve_key(token_key)
    parsed = decode(token, key=key)
    provider = get_provider(parsed.provider)
    carried: dict[str, Any] = connection_settings(provider, admit(parsed, provider).context)
    async with connect(provider, token_key=key, **{**carried, **settings}) as client:
        return await client.wait(token.strip(), timeout=timeout, on_update=on_update, policy=policy)


async def wait_all(
    items: Iterable[ImportJob | str],
    *,
    clients: Iterable[AsyncImportClient] | Mapping[str, AsyncImportClient] | None = None,
    concurrency: int = 100,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
    token_key: TokenKey | str | bytes | None = None,
) -> AsyncIterator[ImportJob]:
    """Each job once, as it reaches a terminal state (``async for``); see ``aiowaiting.wait_all``.

    ``clients`` are used first; a provider with none given is connected from the environment
    (with the declared context settings of the first token naming it, never a base URL or a
    credential) and closed at the end. ``token_key`` reads the tokens, as ``importbridge.wait_all``.
    """
    key = resolve_key(token_key)
    items = list(items)
    given = list(clients.values() if isinstance(clients, Mapping) else clients or ())
    have = {client.provider.name for client in given}
    made: list[AsyncImportClient] = []
    for item in items:
        if isinstance(item, str) and looks_like_token(item.strip()):
            token = decode(item, key=key)
            name, context = token.provider, admit(token, get_provider(token.provider)).context
        elif isinstance(item, ImportJob):
            name, context = item.provider, {}
        else:
            continue  # aiowaiting.wait_all names what is wrong with it
        if name not in have:
            have.add(name)
            carried: dict[str, Any] = connection_settings(get_provider(name), context)
            made.append(await connect(name, token_key=key, **carried))
    try:
        async for job in aiowaiting.wait_all(
            items, clients=given + made, concurrency=concurrency, timeout=timeout, on_update=on_update,
            policy=policy, token_key=key,
        ):  # fmt: skip
            yield job
    finally:
        for client in made:
            await client.close()
