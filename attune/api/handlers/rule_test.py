"""`POST /api/v1/rules/{ref}/test`: what a rule would do with a payload, or with the
recorded events of its trigger — read only (see `attune.app.rule_test`)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from attune.api import envelopes
from attune.api.models import RefPath, RuleTestOut, RuleTestRequest, RuleTestResult
from attune.api.routing import Call, Permission, Route
from attune.app import rule_test
from attune.errors import ValidationError

ONE_OF = ('give either "payload" (one event of the rule\'s trigger) or "since_seconds" '
          '(its recorded events since then, e.g. 3600), not both')


async def test_rule(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    body = call.body_as(RuleTestRequest)
    if (body.payload is None) == (body.since_seconds is None):
        raise ValidationError(ONE_OF, details=[{"field": "payload", "message": ONE_OF}])
    if body.payload is not None:
        report = await rule_test.with_payload(call.ctx, ref, body.payload)
    else:
        assert body.since_seconds is not None
        report = await rule_test.over_history(
            call.ctx, ref, since=timedelta(seconds=body.since_seconds), limit=body.limit)
    rule = report.rule
    return envelopes.single(RuleTestOut(
        rule_ref=rule.ref, trigger_ref=rule.trigger_ref, action_ref=rule.action_ref,
        enabled=rule.enabled, evaluated=len(report.outcomes), matched=report.matched,
        results=[RuleTestResult(event_id=o.event_id, created=o.created, matched=o.matched,
                                params=o.params, error=o.error) for o in report.outcomes]))


ROUTES = [
    # a POST for its body, but it reads only: nothing is appended
    Route("POST", "/api/v1/rules/{ref}/test", test_rule,
          "What-if: evaluate the rule (even disabled) against a payload or against the "
          "recorded events of its trigger (newest first, at most `limit`); nothing is "
          "recorded", Permission("rules", "read"), "rules", params=RefPath,
          body=RuleTestRequest, response=RuleTestOut),
]
