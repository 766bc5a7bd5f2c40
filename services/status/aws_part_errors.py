"""How an AWS read of a status part fails, as a PartError: the overlay route (EC2) and the alarms
(CloudWatch) both say it the same way. boto3 is never imported here: the error is only inspected."""

from __future__ import annotations

from services.inventory.model import AwsSettings
from services.part_errors import ErrorKind, PartError, one_line


def aws_part_error(exc: BaseException, command: str, service: str | None = None) -> PartError:
    """Return the PartError of a failed AWS call: AWS_DENIED or AWS_ERROR, with describe_aws_error's
    sentence (what failed and what to do next)."""
    return PartError(aws_kind(exc), describe_aws(exc, service), command=command)


def describe_aws(exc: BaseException, service: str | None = None) -> str:
    try:
        from services.aws_clients import describe_aws_error

        return describe_aws_error(exc, service)
    except Exception:
        return one_line(exc)


def aws_kind(exc: BaseException) -> ErrorKind:
    """AWS_DENIED when AWS refused the call for lack of a permission, else AWS_ERROR."""
    from services.aws_clients import _ACCESS_DENIED  # the codes describe_aws_error calls a denial

    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return ErrorKind.AWS_DENIED if code in _ACCESS_DENIED else ErrorKind.AWS_ERROR


def aws_timed_out(aws: AwsSettings, command: str, deadline_s: float, endpoint_name: str = "EC2") -> PartError:
    """The TIMEOUT error of an AWS part with no answer within the status deadline."""
    endpoint = aws.endpoint_url or f"the {endpoint_name} endpoint of {aws.region}"
    lab_hint = " (for the lab: is `db2ops lab` still running?)" if aws.is_lab else ""
    return PartError(
        ErrorKind.TIMEOUT,
        f"{endpoint} did not answer {command} within {deadline_s:g} s; check the network, proxy and VPC "
        f"endpoints from this machine{lab_hint}",
        command=command,
    )
