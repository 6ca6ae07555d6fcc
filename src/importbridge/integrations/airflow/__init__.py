"""importbridge for Apache Airflow (the ``airflow`` extra): a provider registered through the
``apache_airflow_provider`` entry point.

- ``hooks``: one connection type per importbridge provider with a client, generated from its
  declared settings (secrets in the masked password / extra fields); ``ImportBridgeHook`` turns a
  connection id into a sync or async client.
- ``triggers``: ``ImportTrigger``, an async ``poll_once`` loop serialized as a resume token and an
  absolute deadline (nothing secret).
- ``operators``: ``ImportOperator``, submit under a request id derived from the task instance, then
  wait (deferred by default).
- ``sensors``: ``ImportSensor``, wait for a job submitted elsewhere (job id or token).

This package imports Airflow lazily: ``get_provider_info`` (what ``airflow providers list`` reads)
needs none of it.
"""

from __future__ import annotations

from .provider_info import get_provider_info

__all__ = ["get_provider_info"]
