"""CloudWatch's own errors, beside the domain tree in :mod:`headwater.errors`.

CloudWatch began as a query-protocol service and kept its old error codes when it moved to JSON
and CBOR: ``code`` is that query-era code (what ``response["Error"]["Code"]`` shows), ``shape``
the modelled exception's name, used as ``__type`` on the JSON and CBOR wires::

    HeadwaterError
    └── CloudWatchError
        ├── InvalidParameterValue         InvalidParameterValueException
        ├── InvalidParameterCombination   InvalidParameterCombinationException
        ├── MissingParameter              MissingRequiredParameterException
        ├── InvalidNextToken              InvalidNextToken
        └── ValidationFailed              ValidationError (not modelled)
"""

from __future__ import annotations

from headwater.errors import HeadwaterError


class CloudWatchError(HeadwaterError):
    code = "InternalServiceError"
    shape = "InternalServiceFault"


class InvalidParameterValue(CloudWatchError):
    code = "InvalidParameterValue"
    shape = "InvalidParameterValueException"


class InvalidParameterCombination(CloudWatchError):
    code = "InvalidParameterCombination"
    shape = "InvalidParameterCombinationException"


class MissingParameter(CloudWatchError):
    code = "MissingParameter"
    shape = "MissingRequiredParameterException"

    @classmethod
    def named(cls, parameter: str) -> MissingParameter:
        return cls(f"The parameter {parameter} is required.")


class InvalidNextToken(CloudWatchError):
    code = "InvalidNextToken"
    shape = "InvalidNextToken"


class ValidationFailed(CloudWatchError):
    """GetMetricData's checks: one line per problem, each ending in a newline, as AWS words
    them ("The value x for parameter MetricDataQueries.member.1.Id is not matching...")."""

    code = "ValidationError"
    shape = "ValidationError"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("".join(f"{p}\n" for p in problems))
        self.problems = problems
