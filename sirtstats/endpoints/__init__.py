"""Time-to-event endpoints: OS, PFS, hepatic PFS, TTP, local progression, DoR, TTR.

Implements R5.1–R5.5 (docs/rules/endpoints.md): the time origin (first SIRT by default; work-up,
diagnosis with delayed entry, randomisation), the endpoint definitions of R5.2 and the FDA-style
PFS censoring and event dating of R5.3 (Clinical Trial Endpoints for the Approval of Cancer Drugs
and Biologics, FDA guidance, December 2018): last adequate assessment, the missed-assessment rule,
censoring at new anticancer therapy (R5.4), censoring at the origin without an adequate
post-baseline assessment, and administrative censoring at a data cut-off (R5.5).

Inputs are tidy frames, never the response engine's internals:

* ``df_patients``: one row per patient with ``patient_id``, ``origin_date`` and, for OS and
  deaths, ``death_date`` and ``last_contact_date`` (optional ``entry_date`` for delayed entry and
  ``origin``, the origin's name); :func:`derive_origin` builds it from a cohort frame.
* ``df_visits``: one row per patient and assessment with ``patient_id``, ``assessment_date``,
  ``overall_response`` (codes ``CR PR SD NON_CR_NON_PD PD NE``; ``ND`` is accepted and is not an
  adequate assessment). An optional ``scope`` column (``overall``, ``hepatic``, ``treated``,
  R4.2 (docs/rules/response.md)) lets one frame feed PFS, hepatic PFS and local progression.
  Filter it to one criterion before calling.
* ``df_therapies``: other anticancer therapies (``patient_id``, ``start_date``,
  ``is_planned_with_sirt``), for censoring at new anticancer therapy.
* ``df_responses`` (optional): the responders' ``patient_id`` and ``first_response_date``
  (e.g. confirmed responders from the best-overall-response derivation). Without it, duration of
  response and time to response start at the first CR/PR visit (unconfirmed response).

Two named rule sets are provided as data (:data:`CONVENTIONS`): ``"fda"`` (the sirtstats
default: R5.3 in docs/rules/endpoints.md and docs/rules/decisions.md) and ``"admiral"`` (the
pharmaverse ``admiral::derive_param_tte`` / ``admiralonco`` ADTTE template conventions: no
missed-assessment rule, no censoring at new therapy, the last assessment of any response
including NE, durations ``end − start + 1``). Every option can also be set on its own.

Everything is importable from here (``from sirtstats.endpoints import derive_endpoints``); the
code lives in ``_rules`` (origins, endpoint definitions and rule sets as data), ``_origin``
(:func:`derive_origin`), ``_censoring`` (event dating and censoring per endpoint kind) and
``_derive`` (:func:`derive_endpoints`, :func:`derive_time_to_event`,
:func:`summarise_endpoint_reasons`).
"""

from __future__ import annotations

from sirtstats.endpoints._derive import (
    derive_endpoints,
    derive_time_to_event,
    summarise_endpoint_reasons,
)
from sirtstats.endpoints._origin import derive_origin
from sirtstats.endpoints._rules import (
    ADEQUATE_RESPONSES,
    CONVENTIONS,
    DAYS_PER_MONTH,
    ENDPOINTS,
    ORIGIN_LABELS,
    ORIGINS,
    RESPONSE_CODES,
    EndpointRules,
)

__all__ = [
    "ADEQUATE_RESPONSES",
    "CONVENTIONS",
    "DAYS_PER_MONTH",
    "ENDPOINTS",
    "ORIGINS",
    "ORIGIN_LABELS",
    "RESPONSE_CODES",
    "EndpointRules",
    "derive_endpoints",
    "derive_origin",
    "derive_time_to_event",
    "summarise_endpoint_reasons",
]
